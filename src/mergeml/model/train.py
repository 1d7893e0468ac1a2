"""The train step: split features by type, build the Pipeline, fit it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from mergeml.config.estimators import check_task
from mergeml.config.targets import DEFAULT_TARGETS
from mergeml.errors import DataError, one_line
from mergeml.model.build import build_pipeline
from mergeml.model.progress import fit_progress
from mergeml.model.threads import fixed_threads

_MAX_REASON = 300  # characters of a scikit-learn message kept in the one error line

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from mergeml.config.schema import TrainParams


def feature_columns(frame: pd.DataFrame, target: str) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature names; booleans count as numeric."""
    features = [c for c in frame.columns if c != target]
    numeric = [
        c
        for c in features
        if pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    categorical = [c for c in features if c not in numeric]
    return numeric, categorical


def split_xy(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Features and target; DataError when the target is absent."""
    if target not in frame.columns:
        raise DataError(f"target column '{target}' not found in the prepared data")
    return frame.drop(columns=[target]), frame[target]


def train_model(
    train: pd.DataFrame, params: TrainParams, *, targets: Sequence[str] = DEFAULT_TARGETS
) -> Pipeline:
    """Fit one scikit-learn Pipeline (preprocessing + estimator) on ``train``.

    ``targets`` is the `_target_` allow-list (see :mod:`mergeml.config.targets`).
    """
    from sklearn.base import is_classifier, is_regressor

    numeric, categorical = feature_columns(train, params.data.target)
    pipeline = build_pipeline(
        params.model,
        params.preprocess.numeric,
        params.preprocess.categorical,
        numeric=numeric,
        categorical=categorical,
        targets=targets,
    )
    estimator = pipeline.named_steps["estimator"]
    check_task(estimator, params.data.task, is_classifier(estimator), is_regressor(estimator))
    features, target = split_xy(train, params.data.target)
    if params.data.task == "classification" and target.nunique() < 2:
        raise DataError(f"target '{params.data.target}' has one class in the training data")
    what = _describe(estimator, features, target, classes=is_classifier(estimator))
    with fixed_threads(params.threads), fit_progress(what):
        try:
            pipeline.fit(features, target)
        except ValueError as exc:  # scikit-learn's word on the data, often kilobytes long
            reason = one_line(str(exc))
            reason = reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 3] + "..."
            raise DataError(f"fitting {type(estimator).__name__} failed: {reason}") from exc
    return pipeline


def _describe(
    estimator: object, features: pd.DataFrame, target: pd.Series, *, classes: bool
) -> str:
    """``'HistGradientBoostingClassifier on 2,400 rows x 30 features (2 classes)'``."""
    what = f"{type(estimator).__name__} on {len(features):,} rows x {features.shape[1]} features"
    if classes:
        what += f" ({target.nunique():,} classes)"
    return what
