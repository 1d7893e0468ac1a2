"""The train step: split features by type, build the Pipeline, fit it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from mergeml.config.estimators import check_task
from mergeml.errors import DataError
from mergeml.model.build import build_pipeline
from mergeml.model.threads import fixed_threads

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


def train_model(train: pd.DataFrame, params: TrainParams) -> Pipeline:
    """Fit one scikit-learn Pipeline (preprocessing + estimator) on ``train``."""
    from sklearn.base import is_classifier, is_regressor

    numeric, categorical = feature_columns(train, params.data.target)
    pipeline = build_pipeline(
        params.model,
        params.preprocess.numeric,
        params.preprocess.categorical,
        numeric=numeric,
        categorical=categorical,
    )
    estimator = pipeline.named_steps["estimator"]
    check_task(estimator, params.data.task, is_classifier(estimator), is_regressor(estimator))
    features, target = split_xy(train, params.data.target)
    if params.data.task == "classification" and target.nunique() < 2:
        raise DataError(f"target '{params.data.target}' has one class in the training data")
    with fixed_threads(params.threads):
        pipeline.fit(features, target)
    return pipeline
