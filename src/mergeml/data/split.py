"""Train/test splitting with guards that fail with a DataError instead of a traceback."""

from __future__ import annotations

import logging
import math

import pandas as pd

from mergeml.errors import DataError, one_line

log = logging.getLogger(__name__)


def split_frame(
    df: pd.DataFrame, *, target: str, test_size: float, stratify: bool, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shuffle and split ``df`` into (train, test), both with a fresh RangeIndex.

    ``stratify`` keeps the class balance of ``target`` in both parts (classification only).
    """
    from sklearn.model_selection import train_test_split

    if isinstance(test_size, bool) or not 0.0 < test_size < 1.0:
        raise DataError(f"test_size must be in (0, 1), got {test_size!r}")
    if target not in df.columns:
        raise DataError(f"target column {target!r} not found in data")
    n_rows = len(df)
    n_test = math.ceil(test_size * n_rows)
    n_train = n_rows - n_test
    if n_train < 1 or n_test < 1:
        raise DataError(
            f"cannot split {n_rows} rows with test_size={test_size}: "
            f"{n_train} train and {n_test} test rows"
        )
    labels = None
    if stratify:
        labels = df[target]
        _check_stratifiable(labels, n_train=n_train, n_test=n_test)
    try:
        train, test = train_test_split(
            df, test_size=test_size, random_state=seed, shuffle=True, stratify=labels
        )
    except ValueError as exc:
        raise DataError(f"cannot split data on {target!r}: {one_line(str(exc))}") from exc
    log.debug("split %d rows into %d train and %d test", n_rows, len(train), len(test))
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _check_stratifiable(labels: pd.Series, *, n_train: int, n_test: int) -> None:
    """Every class needs 2 rows, and each part needs room for one row per class."""
    where = f"target column {labels.name!r}"
    n_null = int(labels.isna().sum())
    if n_null:
        raise DataError(f"cannot stratify on {where}: {n_null} null values")
    counts = labels.value_counts()
    counts = counts[counts > 0]
    if len(counts) < 2:
        raise DataError(f"cannot stratify on {where}: found {len(counts)} class, need at least 2")
    small = counts[counts < 2]
    if len(small):
        listed = ", ".join(f"{_label(c)} has {n}" for c, n in small.items())
        raise DataError(
            f"cannot stratify on {where}: {len(small)} class(es) with fewer than 2 members "
            f"({listed})"
        )
    for part, size in (("test", n_test), ("train", n_train)):
        if size < len(counts):
            raise DataError(
                f"cannot stratify on {where}: the {part} part has {size} rows "
                f"but there are {len(counts)} classes"
            )


def check_no_overlap(train: pd.DataFrame, test: pd.DataFrame) -> None:
    """Raise DataError if any test row is identical (all columns) to a train row."""
    if list(train.columns) != list(test.columns):
        raise DataError(
            f"train and test have different columns ({train.shape[1]} vs {test.shape[1]})"
        )
    train_hashes = pd.util.hash_pandas_object(train, index=False)
    test_hashes = pd.util.hash_pandas_object(test, index=False)
    overlap = int(test_hashes.isin(train_hashes).sum())
    if overlap:
        raise DataError(
            f"train/test overlap: {overlap} of {len(test)} test rows are identical to a train "
            "row (remove duplicate rows before splitting)"
        )


def _label(value: object) -> str:
    item = getattr(value, "item", None)
    value = item() if callable(item) else value
    return repr(value) if isinstance(value, str) else str(value)
