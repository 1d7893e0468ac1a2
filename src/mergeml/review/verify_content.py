"""Content comparisons for `mergeml verify-built`: numbers within a tolerance, the rest exact.

Every function compares a committed artifact with its rebuilt counterpart and returns a
:class:`Difference`: a structural problem (not comparable at all), the numbers beyond
tolerance (where they are and by how much), or the largest gap among equivalent numbers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mergeml.config.schema import VerifyTolerance

_SHOWN = 3


@dataclass(frozen=True)
class Gap:
    """One number that differs: where, and the committed and rebuilt values."""

    where: str
    committed: float
    rebuilt: float

    @property
    def size(self) -> float:
        return abs(self.rebuilt - self.committed)

    def describe(self) -> str:
        return (
            f"{self.where} differs by {self.size:.3g} "
            f"(committed {self.committed:.6g}, rebuilt {self.rebuilt:.6g})"
        )


@dataclass(frozen=True)
class Difference:
    problem: str | None = None
    beyond: tuple[Gap, ...] = ()
    n_beyond: int = 0
    largest: float = 0.0
    count: int = 0
    unit: str = "numbers"

    def summary(self) -> str:
        if self.count == 0:
            return "same content"
        return f"max |Δ| {self.largest:.2g} over {self.count:,} {self.unit}"

    def describe_beyond(self) -> str:
        shown = "; ".join(g.describe() for g in self.beyond)
        more = self.n_beyond - len(self.beyond)
        return shown + (f" (+{more:,} more)" if more > 0 else "") + " beyond tolerance"


class _Mismatch(Exception):
    """A structural difference: the two sides cannot be compared number by number."""


def close(committed: float, rebuilt: float, tol: VerifyTolerance) -> bool:
    """Whether two numbers agree within ``tol`` (NaN only matches NaN, inf only itself)."""
    if committed == rebuilt or (math.isnan(committed) and math.isnan(rebuilt)):
        return True
    if not (math.isfinite(committed) and math.isfinite(rebuilt)):
        return False
    allowed = tol.absolute + tol.relative * max(abs(committed), abs(rebuilt))
    return abs(committed - rebuilt) <= allowed


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Collector:
    def __init__(self, tol: VerifyTolerance, unit: str = "numbers") -> None:
        self.tol, self.unit = tol, unit
        self.beyond: list[Gap] = []  # the first few, to show
        self.n_beyond = 0
        self.largest, self.count = 0.0, 0

    def gap(self, where: str, committed: float, rebuilt: float) -> None:
        self.n_beyond += 1
        if len(self.beyond) < _SHOWN:
            self.beyond.append(Gap(where, committed, rebuilt))

    def number(self, where: str, committed: float, rebuilt: float) -> None:
        self.count += 1
        if not close(committed, rebuilt, self.tol):
            self.gap(where, committed, rebuilt)
        elif committed != rebuilt and math.isfinite(committed):
            self.largest = max(self.largest, abs(rebuilt - committed))

    def result(self) -> Difference:
        return Difference(
            beyond=tuple(self.beyond),
            n_beyond=self.n_beyond,
            largest=self.largest,
            count=self.count,
            unit=self.unit,
        )


# --- JSON and CSV -------------------------------------------------------------------------------


# Top-level keys that name the model's bytes (the reference profile's `model_md5`): the model
# is compared by its predictions in its own finding, so a model rebuilt equivalent under other
# kernels does not make the file that names it differ.
MODEL_IDENTITY_KEYS = ("model_md5",)


def compare_json(committed: str, rebuilt: str, tol: VerifyTolerance) -> Difference:
    """Same structure, same strings, numbers within ``tol`` (:data:`MODEL_IDENTITY_KEYS`
    aside)."""
    try:
        old, new = json.loads(committed), json.loads(rebuilt)
    except json.JSONDecodeError as exc:
        return Difference(problem=f"not valid JSON: {exc.msg} at line {exc.lineno}")
    if isinstance(old, dict) and isinstance(new, dict):
        for key in MODEL_IDENTITY_KEYS:
            if key in old and key in new:
                old, new = {**old, key: None}, {**new, key: None}
    collector = _Collector(tol)
    try:
        _walk(old, new, "", collector)
    except _Mismatch as exc:
        return Difference(problem=str(exc))
    return collector.result()


def _walk(old: Any, new: Any, where: str, out: _Collector) -> None:
    here = where or "the document"
    if isinstance(old, dict) and isinstance(new, dict):
        if set(old) != set(new):
            gone, added = sorted(set(old) - set(new)), sorted(set(new) - set(old))
            raise _Mismatch(f"{here}: keys differ (only committed: {gone}, only rebuilt: {added})")
        for key in old:
            _walk(old[key], new[key], f"{where}.{key}" if where else str(key), out)
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            raise _Mismatch(f"{here}: {len(old)} items committed, {len(new)} rebuilt")
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _walk(a, b, f"{where}[{i}]", out)
    elif _is_number(old) and _is_number(new):
        out.number(here, float(old), float(new))
    elif old != new or type(old) is not type(new):
        raise _Mismatch(f"{here}: {old!r} committed, {new!r} rebuilt")


def compare_csv(committed: str, rebuilt: str, tol: VerifyTolerance) -> Difference:
    """Same shape and text cells; cells that parse as numbers on both sides within ``tol``."""
    old, new = list(csv.reader(io.StringIO(committed))), list(csv.reader(io.StringIO(rebuilt)))
    if len(old) != len(new):
        return Difference(problem=f"{len(old)} rows committed, {len(new)} rebuilt")
    collector = _Collector(tol, "cells")
    for i, (row_old, row_new) in enumerate(zip(old, new, strict=True), 1):
        if len(row_old) != len(row_new):
            return Difference(problem=f"row {i}: {len(row_old)} cells committed, {len(row_new)}")
        for j, (a, b) in enumerate(zip(row_old, row_new, strict=True), 1):
            x, y = _float(a), _float(b)
            if x is not None and y is not None:
                collector.number(f"row {i} column {j}", x, y)
            elif a != b:
                return Difference(problem=f"row {i} column {j}: {a!r} committed, {b!r} rebuilt")
    return collector.result()


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


# --- tables and models --------------------------------------------------------------------------


def compare_tables(committed: bytes, rebuilt: Path, tol: VerifyTolerance) -> Difference:
    """Two Parquet tables: same columns, dtypes and rows; numeric values within ``tol``."""
    import pandas as pd

    old, new = pd.read_parquet(io.BytesIO(committed)), pd.read_parquet(rebuilt)
    if list(old.columns) != list(new.columns):
        return Difference(problem=f"columns differ: {list(old.columns)} vs {list(new.columns)}")
    if len(old) != len(new):
        return Difference(problem=f"{len(old):,} rows committed, {len(new):,} rebuilt")
    collector = _Collector(tol, "values")
    for name in old.columns:
        a, b = old[name], new[name]
        if str(a.dtype) != str(b.dtype):
            return Difference(problem=f"column '{name}': dtype {a.dtype} committed, {b.dtype}")
        if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            _arrays(
                f"column '{name}'",
                a.to_numpy(dtype=float, na_value=np.nan),
                b.to_numpy(dtype=float, na_value=np.nan),
                collector,
            )
        elif not a.equals(b):
            rows = int((a.astype(object).to_numpy() != b.astype(object).to_numpy()).sum())
            return Difference(problem=f"column '{name}': {rows:,} values differ")
    return collector.result()


def _arrays(where: str, old: np.ndarray, new: np.ndarray, out: _Collector) -> None:
    """Compare two float arrays of one shape; record each value beyond tolerance."""
    both_nan = np.isnan(old) & np.isnan(new)
    equal = (old == new) | both_nan
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(new - old)
        allowed = out.tol.absolute + out.tol.relative * np.maximum(np.abs(old), np.abs(new))
        ok = equal | (np.isfinite(gap) & (gap <= allowed))
    out.count += int(old.size)
    finite_gaps = gap[~equal & ok]
    if finite_gaps.size:
        out.largest = max(out.largest, float(finite_gaps.max()))
    bad = np.argwhere(~ok)
    for index in bad[:_SHOWN]:
        pos = ", ".join(str(int(i)) for i in index)
        out.gap(f"{where}[{pos}]", float(old[tuple(index)]), float(new[tuple(index)]))
    out.n_beyond += max(len(bad) - _SHOWN, 0)


def compare_predictions(
    committed: bytes,
    rebuilt: Path,
    table: Path,
    target: str | None,
    md5s: tuple[str | None, str | None] = (None, None),
    tol: VerifyTolerance | None = None,
) -> Difference:
    """Score ``table`` with both models; class probabilities (or predictions) within ``tol``."""
    import pandas as pd

    from mergeml.model.io import load_model

    with tempfile.TemporaryDirectory(prefix="mergeml-verify-") as tmp:
        path = Path(tmp) / "committed.skops"
        path.write_bytes(committed)
        expected = md5s[0] or hashlib.md5(committed, usedforsecurity=False).hexdigest()
        old_model = load_model(path, expected_md5=expected)
    new_model = load_model(rebuilt, expected_md5=md5s[1])
    frame = pd.read_parquet(table)
    features = frame.drop(columns=[target]) if target in frame.columns else frame
    old, new = _scores(old_model, features), _scores(new_model, features)
    if old.shape != new.shape:
        return Difference(problem=f"prediction shapes differ: {old.shape} vs {new.shape}")
    collector = _Collector(tol or VerifyTolerance(), "predictions")
    _arrays("prediction", old, new, collector)
    return collector.result()


def _scores(model: Any, features: Any) -> np.ndarray:
    method = model.predict_proba if hasattr(model, "predict_proba") else model.predict
    return np.asarray(method(features), dtype=float)
