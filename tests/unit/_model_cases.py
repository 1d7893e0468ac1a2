"""Tiny frames and the supported pipeline shapes, shared by model I/O tests.

Also holds a custom estimator and a plain function: importable names that are
deliberately *not* in mergeml's trusted list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

NUMERIC = ["x_float", "x_int"]
CATEGORICAL = ["colour"]

ESTIMATORS: dict[str, tuple[Callable[[int], Any], str]] = {
    "logistic": (lambda seed: LogisticRegression(max_iter=200), "classification"),
    "forest": (
        lambda seed: RandomForestClassifier(n_estimators=3, max_depth=4, random_state=seed),
        "classification",
    ),
    "extra_trees": (
        lambda seed: ExtraTreesClassifier(n_estimators=3, max_depth=4, random_state=seed),
        "classification",
    ),
    "hgb_classifier": (
        lambda seed: HistGradientBoostingClassifier(max_iter=5, random_state=seed),
        "classification",
    ),
    "ridge": (lambda seed: Ridge(alpha=1.0), "regression"),
    "forest_regressor": (
        lambda seed: RandomForestRegressor(n_estimators=3, max_depth=4, random_state=seed),
        "regression",
    ),
    "hgb_regressor": (
        lambda seed: HistGradientBoostingRegressor(max_iter=5, random_state=seed),
        "regression",
    ),
}
PREPROCESSING = ("onehot", "ordinal")
CATEGORY_DTYPES = ("category", "str")
CASES = [
    (pre, dtype, est) for pre in PREPROCESSING for dtype in CATEGORY_DTYPES for est in ESTIMATORS
]


def make_frame(
    category_dtype: str, *, missing: bool, n_rows: int = 200, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features plus an int 0/1 target and a float target."""
    rng = np.random.default_rng(seed)
    x_float = rng.normal(size=n_rows)
    x_int = rng.integers(0, 10, size=n_rows).astype("int64")
    colours = rng.choice(["red", "green", "blue"], size=n_rows, p=[0.5, 0.3, 0.2]).astype(object)
    y_class = ((x_float + (colours == "red") + 0.1 * x_int) > 1.0).astype("int64")
    y_reg = (2.0 * x_float + (colours == "green") - 0.3 * x_int).astype("float64")
    if missing:
        x_float[::17] = np.nan
        colours[3::29] = None
    frame = pd.DataFrame(
        {
            "x_float": x_float,
            "x_int": x_int,
            "colour": pd.Series(colours, dtype=category_dtype),
        }
    )
    return frame, y_class, y_reg


def preprocessor(kind: str) -> ColumnTransformer:
    """The one-hot (default) or ordinal preprocessing of our pipelines."""
    if kind == "onehot":
        numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        categorical = make_pipeline(
            SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
        )
    else:
        numeric = "passthrough"
        categorical = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    return ColumnTransformer(
        [("numeric", numeric, NUMERIC), ("categorical", categorical, CATEGORICAL)]
    )


def fit_case(pre: str, dtype: str, est: str, seed: int = 0) -> tuple[Pipeline, pd.DataFrame]:
    """Fit one supported pipeline on a tiny frame; return it with its features."""
    factory, task = ESTIMATORS[est]
    # Missing values only where an imputer handles them.
    frame, y_class, y_reg = make_frame(dtype, missing=pre == "onehot")
    model = Pipeline([("preprocess", preprocessor(pre)), ("estimator", factory(seed))])
    model.fit(frame, y_class if task == "classification" else y_reg)
    return model, frame


class ClippedScaler(TransformerMixin, BaseEstimator):
    """A custom transformer: an importable type that is not trusted."""

    def __init__(self, limit: float = 3.0) -> None:
        self.limit = limit

    def fit(self, X: Any, y: Any = None) -> ClippedScaler:
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        return np.clip(np.asarray(X, dtype=float), -self.limit, self.limit)


def double(values: Any) -> Any:
    """An importable user function for a FunctionTransformer."""
    return values * 2
