"""Train/test splitting with guards that fail with a DataError instead of a traceback."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from mergeml.errors import DataError

log = logging.getLogger(__name__)

_MAX_LISTED = 5  # classes named in a message; the rest are counted


def split_frame(
    df: pd.DataFrame, *, target: str, test_size: float, stratify: bool, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shuffle and split ``df`` into (train, test), both with a fresh RangeIndex.

    ``stratify`` keeps the class balance of ``target`` in both parts (classification only).
    """
    if isinstance(test_size, bool) or not 0.0 < test_size < 1.0:
        raise DataError(f"test_size must be in (0, 1), got {test_size!r}")
    if target not in df.columns:
        raise DataError(f"target column {target!r} not found in data")
    n_rows = len(df)
    n_train, n_test = split_sizes(n_rows, test_size)
    if n_train < 1 or n_test < 1:
        raise DataError(
            f"cannot split {n_rows} rows with test_size={test_size}: "
            f"{n_train} train and {n_test} test rows"
        )
    rng = np.random.default_rng(seed)
    if stratify:
        _check_stratifiable(df[target], n_train=n_train, n_test=n_test)
        test_rows = _stratified_test_rows(df[target].to_numpy(), n_test, rng)
    else:
        test_rows = rng.permutation(n_rows)[:n_test]
    is_test = np.zeros(n_rows, dtype=bool)
    is_test[test_rows] = True
    train_rows = rng.permutation(np.flatnonzero(~is_test))
    test_rows = rng.permutation(np.flatnonzero(is_test))
    train, test = df.iloc[train_rows], df.iloc[test_rows]
    log.debug("split %d rows into %d train and %d test", n_rows, len(train), len(test))
    return train.reset_index(drop=True), test.reset_index(drop=True)


def split_sizes(n_rows: int, test_size: float) -> tuple[int, int]:
    """``(train rows, test rows)`` of a split of ``n_rows``: the test part is rounded up."""
    n_test = math.ceil(test_size * n_rows)
    return n_rows - n_test, n_test


def check_class_counts(labels: pd.Series, *, test_size: float, stratify: bool) -> None:
    """Refuse a classification target whose classes cannot all be learnt and scored.

    The rule: every class needs at least one row in the train split (or the model never
    sees it) and one in the test split (or its metrics are undefined). So there can be
    no more classes than rows in the smaller split, and each class needs 2 rows. The
    stratified split then places them; a random one is checked after splitting
    (:func:`check_classes_on_both_sides`). Checked before anything is fitted: hundreds
    of classes in a few hundred rows would otherwise train for minutes and then fail.
    """
    counts = labels.value_counts()
    counts = counts[counts > 0]
    n_train, n_test = split_sizes(len(labels), test_size)
    part, room = ("test", n_test) if n_test <= n_train else ("train", n_train)
    where = f"data.target {labels.name!r}"
    if len(counts) > room:
        raise DataError(
            f"{where}: {len(counts)} classes in {len(labels)} rows (the {part} split holds "
            f"{room}): every class needs at least one row in the train split and one in "
            f"the test split, so at most {room} classes fit; merge rare classes, add rows "
            "or change split.test_size"
        )
    single = counts[counts < 2]
    if len(single) and not stratify:  # the stratified split reports these itself
        listed = ", ".join(_label(c) for c in single.index[:_MAX_LISTED])
        more = f", ... ({len(single) - _MAX_LISTED} more)" if len(single) > _MAX_LISTED else ""
        raise DataError(
            f"{where}: {len(single)} of {len(counts)} classes have a single row "
            f"({listed}{more}): every class needs at least 2 rows, one for the train split "
            "and one for the test split; merge rare classes or add rows"
        )


def check_classes_on_both_sides(train: pd.Series, test: pd.Series) -> None:
    """After a random split: DataError when a class has no row in one of the parts."""
    seen = {"train": set(train.unique()), "test": set(test.unique())}
    for part, other in (("test", "train"), ("train", "test")):
        missing = sorted(seen[other] - seen[part], key=str)
        if missing:
            listed = ", ".join(_label(c) for c in missing[:_MAX_LISTED])
            more = (
                f", ... ({len(missing) - _MAX_LISTED} more)" if len(missing) > _MAX_LISTED else ""
            )
            raise DataError(
                f"data.target {train.name!r}: the random split (split.stratify: false) left "
                f"{len(missing)} of {len(seen['train'] | seen['test'])} classes without a "
                f"row in the {part} split ({listed}{more}): every class needs a row on both "
                "sides; set split.stratify: true, or add rows"
            )


def _stratified_test_rows(labels: np.ndarray, n_test: int, rng: np.random.Generator) -> np.ndarray:
    """Row positions for the test part: each class in proportion, ``n_test`` in all.

    Every class keeps at least one row on each side. Quotas are rounded down and the
    remaining rows go to the classes with the largest remainders (ties: class order).
    A plain NumPy version of a stratified shuffle split, so that the prepare stage
    does not pay scikit-learn's import time.
    """
    classes, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
    exact = counts * (n_test / len(labels))
    quota = np.clip(np.floor(exact).astype(int), 1, counts - 1)
    for i in np.argsort(-(exact - np.floor(exact)), kind="stable"):
        if quota.sum() >= n_test:
            break
        if quota[i] < counts[i] - 1:
            quota[i] += 1
    chosen = [rng.permutation(np.flatnonzero(codes == k))[: quota[k]] for k in range(len(classes))]
    return np.concatenate(chosen)


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
