"""The prepare step: load the declared source, validate it, split it, summarise it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mergeml.config.schema import (
    BreastCancerData,
    DataConfig,
    DiabetesData,
    FileData,
    PrepareParams,
    SyntheticData,
)
from mergeml.data.spec import TableSpec
from mergeml.data.split import (
    check_class_counts,
    check_classes_on_both_sides,
    check_no_overlap,
    split_frame,
)
from mergeml.data.validate import validate_table
from mergeml.errors import DataError

_MAX_EXACT_INT = 2**53  # above this a float64 no longer holds every integer


@dataclass(frozen=True)
class Prepared:
    train: pd.DataFrame
    test: pd.DataFrame
    summary: dict[str, Any]


def load_source(data: DataConfig, root: Path) -> tuple[pd.DataFrame, TableSpec | None]:
    """The raw frame for ``data`` and its declared contract (None when undeclared)."""
    if isinstance(data, SyntheticData):
        from mergeml.data.synthetic import generate_transactions, transactions_spec

        frame = generate_transactions(
            data.n_rows,
            seed=data.seed,
            positive_rate=data.positive_rate,
            n_noise_features=data.n_noise_features,
            drift=data.drift,
        )
        return frame, transactions_spec(data.n_noise_features)
    if isinstance(data, BreastCancerData | DiabetesData):
        from mergeml.data import sources

        loader = (
            sources.load_breast_cancer_frame
            if isinstance(data, BreastCancerData)
            else sources.load_diabetes_frame
        )
        return loader(), None
    if isinstance(data, FileData):
        from mergeml.data.sources import read_table, source_path

        frame = read_table(source_path(root, data.path), fmt=data.format)
        if not data.columns:
            return frame, None
        spec = TableSpec.from_config(data.columns)
        return as_declared_types(frame, spec), spec
    raise DataError(f"unsupported data source {data!r}")  # pragma: no cover - schema forbids


def as_declared_types(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Give declared columns the types CSV cannot carry: categoricals, integers with gaps.

    Text columns declared `category` become categoricals; their categories are the observed
    values, so a value outside the declared list is still reported by validation rather
    than silently turned into a missing value. A column declared `int` that was read as
    float only because of missing values (every value whole) becomes pandas' nullable
    ``Int64``: `nullable: true` then accepts the gaps, and without it they are reported
    as null values, not as a wrong dtype. Fractional values stay float and are reported.
    """
    columns: dict[str, pd.Series] = {}
    for c in spec.columns:
        s = frame[c.name] if c.name in frame.columns else None
        if s is None:
            continue
        if c.dtype == "category" and _is_text(s):
            columns[c.name] = s.astype("category")
        elif c.dtype == "int" and _whole_floats(s):
            columns[c.name] = s.astype("Int64")
    return frame.assign(**columns) if columns else frame


def _is_text(s: pd.Series) -> bool:
    return not isinstance(s.dtype, pd.CategoricalDtype) and not pd.api.types.is_numeric_dtype(s)


def _whole_floats(s: pd.Series) -> bool:
    """A float column whose values are all whole numbers that a float holds exactly."""
    if not pd.api.types.is_float_dtype(s.dtype):
        return False
    values = s.dropna().to_numpy(dtype=np.float64)
    return bool(np.all((np.abs(values) <= _MAX_EXACT_INT) & (values == np.trunc(values))))


def summarise(train: pd.DataFrame, test: pd.DataFrame, *, target: str, task: str) -> dict:
    """Rows, feature counts and class balance (or target spread) for the reports."""
    features = [c for c in train.columns if c != target]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(train[c])]
    summary: dict[str, Any] = {
        "task": task,
        "target": target,
        "rows": {"train": len(train), "test": len(test)},
        "features": {"numeric": len(numeric), "categorical": len(features) - len(numeric)},
    }
    if task == "classification":
        summary["class_balance"] = {
            name: {str(k): int(v) for k, v in part[target].value_counts().sort_index().items()}
            for name, part in (("train", train), ("test", test))
        }
    else:
        summary["target_mean"] = {
            name: round(float(part[target].mean()), 6)
            for name, part in (("train", train), ("test", test))
        }
    return summary


def append_extra(frame: pd.DataFrame, files: tuple[str, ...], root: Path) -> pd.DataFrame:
    """``frame`` followed by the rows of each extra file, in order, in ``frame``'s columns
    and dtypes; DataError naming a file that lacks one of them."""
    from mergeml.data.sources import read_table, source_path

    parts = [frame]
    for rel in files:
        extra = read_table(source_path(root, rel))
        missing = [c for c in frame.columns if c not in extra.columns]
        if missing:
            raise DataError(f"data.extra_files {rel}: missing column(s) {', '.join(missing)}")
        try:
            parts.append(extra[list(frame.columns)].astype(frame.dtypes.to_dict()))
        except (TypeError, ValueError) as exc:
            raise DataError(f"data.extra_files {rel}: {' '.join(str(exc).split())}") from exc
    return pd.concat(parts, ignore_index=True)


def load_and_validate(params: PrepareParams, root: Path) -> tuple[pd.DataFrame, bool]:
    """The validated source frame, and whether the split will be stratified."""
    data = params.data
    frame, spec = load_source(data, root)
    if data.extra_files:
        frame = append_extra(frame, data.extra_files, root)
    stratify = params.split.stratify and data.task == "classification"
    if data.task == "classification" and data.target in frame.columns:
        check_class_counts(frame[data.target], test_size=params.split.test_size, stratify=stratify)
    validate_table(
        frame,
        target=data.target,
        task=data.task,
        spec=spec,
        min_class_members=2 if stratify else 1,
    )
    return frame, stratify


def prepare(params: PrepareParams, root: Path) -> Prepared:
    """Load, validate, split and check; raise DataError before anything is written."""
    data = params.data
    frame, stratify = load_and_validate(params, root)
    train, test = split_frame(
        frame,
        target=data.target,
        test_size=params.split.test_size,
        stratify=stratify,
        seed=params.seed,
    )
    if data.task == "classification" and not stratify:
        check_classes_on_both_sides(train[data.target], test[data.target])
    check_no_overlap(train, test)
    summary = summarise(train, test, target=data.target, task=data.task)
    summary["source"] = data.source
    if isinstance(data, FileData):
        from mergeml.data.sources import file_record

        summary["source_file"] = file_record(root, data.path)
    return Prepared(train, test, summary)
