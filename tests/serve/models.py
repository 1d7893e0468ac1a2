"""A small fitted model written as a `mergeml pull` directory, for serving tests.

Fitting a tiny Pipeline directly takes a fraction of a second, where the project's
`dvc repro` takes many: tests of the server (and of the prediction log) build one per
module with `pulled_model(tmp_path_factory.mktemp(...))`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mergeml.model.io import dumps_canonical
from mergeml.model.schema import input_schema
from mergeml.serve.fetch import write_pulled
from mergeml.serve.resolve import Target

NAME = "tabular-model"
VERSION = "v0.3.0"
STAGE = "staging"
COMMIT = "c0ffee" + "0" * 34
CITIES = ["berlin", "lima", "oslo"]


def training_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Features: ``age`` (int), ``income`` (float, nullable), ``city`` (str, three labels),
    ``member`` (bool); target ``churn`` (0 or 1)."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50.0, 15.0, n)
    income[::10] = np.nan
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": income,
            "city": rng.choice(CITIES, n),
            "member": rng.random(n) < 0.5,
        }
    )
    score = frame["age"] / 40 + np.nan_to_num(income, nan=50.0) / 50 + frame["member"]
    frame["churn"] = (score + rng.normal(0, 0.3, n) > 2.5).astype("int64")
    return frame


def fit(frame: pd.DataFrame) -> object:
    """A Pipeline: impute + scale the numbers, one-hot the city, logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = make_pipeline(SimpleImputer(), StandardScaler())
    pre = ColumnTransformer(
        [
            ("numeric", numeric, ["age", "income", "member"]),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), ["city"]),
        ]
    )
    pipeline = Pipeline([("preprocess", pre), ("estimator", LogisticRegression())])
    return pipeline.fit(frame.drop(columns=["churn"]), frame["churn"])


def write_model(out: Path, model: object, features: pd.DataFrame) -> Path:
    """Write the fitted ``model`` (trained on ``features``) with its manifest into ``out``,
    as `mergeml pull` does."""
    data = dumps_canonical(model)
    target = Target(
        name=NAME,
        version=VERSION,
        stage=STAGE,
        commit=COMMIT,
        model_path="models/model.skops",
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        schema=input_schema(features, "churn", [0, 1]),
    )
    write_pulled(out, target, data)
    return out


def pulled_model(out: Path) -> Path:
    """Fit the model and write it with its manifest into ``out`` (a new directory)."""
    frame = training_frame()
    return write_model(out, fit(frame), frame.drop(columns=["churn"]))


def rows(n: int = 5, seed: int = 1) -> pd.DataFrame:
    """``n`` valid feature rows (no target)."""
    return training_frame(max(n, 10), seed).drop(columns=["churn"]).head(n)


def _value(v: object) -> object:
    """A JSON value: NaN and NA become null, numpy scalars Python ones."""
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    return v.item() if hasattr(v, "item") else v


V2_TYPES = {"age": "INT64", "income": "FP64", "city": "BYTES", "member": "BOOL"}


def v2_body(frame: pd.DataFrame, **extra: Any) -> dict[str, Any]:
    """The V2 infer request of ``frame`` (one input per column)."""
    inputs = [
        {
            "name": name,
            "shape": [len(frame)],
            "datatype": V2_TYPES[name],
            "data": [_value(v) for v in frame[name].tolist()],
        }
        for name in frame.columns
    ]
    return {"inputs": inputs, **extra}


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """``frame`` as JSON records (full float precision, NaN as null)."""
    return [{k: _value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
