"""The model's input schema: the feature columns it is trained on, recorded beside it.

The `schema` stage writes it next to the model (``models/input_schema.json``, a git-tracked
output) from the same training split the `train` stage fits on, so whoever serves or
scores a version reads from git alone what input it expects: each feature column in
training order, its kind (``int``, ``float``, ``bool``, ``category`` or ``str``), whether it
held missing values in training, for a label column the labels seen in training, and a
classifier's classes. (A stage of its own, not a `train` output: DVC keeps no run cache
for a stage with an uncached output, and train's run cache is what restores a reverted
change without refitting.)
"""

from __future__ import annotations

import json
from posixpath import dirname, join
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_FORMAT = 1
INPUT_SCHEMA = "input_schema.json"  # written in the model's directory
KINDS = ("int", "float", "bool", "category", "str")
MAX_LABELS = 1000  # labels listed per column; a column with more records none (any label)


def _kind(column: pd.Series) -> str:
    """The column's kind, as data contracts (`data.columns`) name dtypes."""
    import pandas as pd

    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_numeric_dtype(dtype):
        return "float"
    return "category" if isinstance(dtype, pd.CategoricalDtype) else "str"


def _column(name: str, column: pd.Series) -> dict[str, Any]:
    kind = _kind(column)
    entry: dict[str, Any] = {"name": name, "dtype": kind, "nullable": bool(column.isna().any())}
    if kind in ("category", "str"):
        labels = sorted({str(v) for v in column.dropna().unique()})
        entry["categories"] = labels if len(labels) <= MAX_LABELS else None
    return entry


def input_schema(features: pd.DataFrame, target: str, classes: list[Any] | None) -> dict[str, Any]:
    """The schema of ``features`` (the training frame without the target), as JSON data.

    ``classes`` are a classifier's labels (None for a regressor).
    """
    columns = [_column(str(name), features[name]) for name in features.columns]
    schema: dict[str, Any] = {"format": SCHEMA_FORMAT, "target": target, "columns": columns}
    if classes is not None:
        schema["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
    return schema


def training_schema(train: pd.DataFrame, target: str, task: str) -> dict[str, Any]:
    """The schema of a model fitted on ``train``: every column but ``target`` is a feature
    (as `mergeml.model.train` splits them); a classifier's classes are the sorted labels."""
    import numpy as np

    features = train.drop(columns=[target]) if target in train.columns else train
    classes = None
    if task == "classification" and target in train.columns:
        classes = list(np.unique(train[target].dropna().to_numpy()))
    return input_schema(features, target, classes)


def schema_path_for(model_path: str) -> str:
    """Where the schema of the model at ``model_path`` lives: beside it."""
    return join(dirname(model_path), INPUT_SCHEMA)


def schema_text(schema: dict[str, Any]) -> str:
    """The file's text: stable key order, one column per block, a final newline."""
    return json.dumps(schema, indent=2, sort_keys=False, allow_nan=False) + "\n"


def _valid_column(entry: object) -> bool:
    if not isinstance(entry, dict):
        return False
    labels = entry.get("categories")
    return (
        isinstance(entry.get("name"), str)
        and entry.get("dtype") in KINDS
        and isinstance(entry.get("nullable"), bool)
        and (
            labels is None or (isinstance(labels, list) and all(isinstance(x, str) for x in labels))
        )
    )


def parse_schema(text: str | None) -> dict[str, Any] | None:
    """The schema in ``text``; None when it is absent or not a schema this version reads."""
    try:
        doc = json.loads(text) if text else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != SCHEMA_FORMAT:
        return None
    columns = doc.get("columns")
    if not isinstance(columns, list) or not all(_valid_column(c) for c in columns):
        return None
    return doc
