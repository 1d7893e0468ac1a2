"""Check a frame of model inputs against the model's input schema (`mergeml.model.schema`).

A pure function over a pandas DataFrame: `mergeml predict` runs it on every batch it reads
and an HTTP server can run it on every request. Each problem names its column, what is
wrong, how many rows have it and the first of them (a position in the frame, from 0).
Columns the schema does not list are ignored (they are not features).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

SHOWN_VALUES = 3  # unknown labels quoted in a message
SMALL_ROWS = 256  # up to this many rows, values are checked in Python: no Series ops


@dataclass(frozen=True)
class Problem:
    """One column's problem: ``kind`` is ``missing``, ``dtype``, ``null`` or ``category``."""

    column: str
    kind: str
    count: int  # rows with the problem (for ``missing`` and a wrong column dtype: all rows)
    first_row: int | None  # position in the frame of the first such row (None: no row)
    detail: str

    def describe(self, offset: int = 0) -> str:
        """``column 'amount': 3 missing values ... (first at row 12)``; rows count from
        ``offset`` (the frame's first row in a larger input)."""
        where = "" if self.first_row is None else f" (first at row {offset + self.first_row})"
        return f"column '{self.column}': {self.detail}{where}"


def missing_columns(names: Iterable[str], schema: dict[str, Any]) -> list[Problem]:
    """The schema's columns that ``names`` lacks, in schema order."""
    present = set(names)
    return [
        Problem(c["name"], "missing", 0, None, f"missing (the model needs it, dtype {c['dtype']})")
        for c in schema["columns"]
        if c["name"] not in present
    ]


def _values(count: int) -> str:
    """``value`` for one, else ``values``."""
    return "value" if count == 1 else "values"


def _first(mask: Any) -> int:
    """Position of the first True in a boolean Series or array."""
    import numpy as np

    return int(np.argmax(np.asarray(mask)))


def _dtype_problem(name: str, kind: str, column: pd.Series) -> Problem | None:
    """A wrong column dtype for ``kind``, or None when the column can hold it."""
    import pandas as pd

    dtype = column.dtype
    types = pd.api.types
    if kind == "bool":
        fits = types.is_bool_dtype(dtype)
    elif kind in ("int", "float"):
        fits = types.is_numeric_dtype(dtype) and not types.is_bool_dtype(dtype)
    elif isinstance(dtype, pd.CategoricalDtype):
        fits = types.infer_dtype(dtype.categories, skipna=True) in ("string", "empty")
    else:
        fits = types.infer_dtype(column, skipna=True) in ("string", "empty")
    if fits:
        return None
    return Problem(name, "dtype", len(column), None, f"dtype {dtype}, the model needs {kind}")


def _fraction_problem(name: str, column: pd.Series) -> Problem | None:
    """An ``int`` column given as floats: the non-integral values."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_integer_dtype(column.dtype):
        return None
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    bad = pd.Series(np.isfinite(values) & (np.floor(values) != values) | np.isinf(values))
    count = int(bad.sum())
    if not count:
        return None
    return Problem(
        name,
        "dtype",
        count,
        _first(bad),
        f"{count} non-integer {_values(count)}, the model needs int",
    )


def _null_problem(name: str, column: pd.Series) -> Problem | None:
    import pandas as pd

    nulls = pd.isna(column.to_numpy())  # an array: far cheaper than Series ops on few rows
    count = int(nulls.sum())
    if not count:
        return None
    detail = (
        f"{count} missing {_values(count)} (NaN or empty), not nullable in the model's input schema"
    )
    return Problem(name, "null", count, _first(nulls), detail)


def _unknown(column: pd.Series, labels: list[str]) -> Any:
    """The rows whose value is not null and not among ``labels`` (a boolean array)."""
    import numpy as np

    if len(column) > SMALL_ROWS:
        return (~column.isin(labels) & column.notna()).to_numpy()
    known = set(labels)  # the dtype check passed: every non-null value is text
    values = column.to_numpy(dtype=object)
    return np.fromiter((isinstance(v, str) and v not in known for v in values), bool, len(values))


def _category_problem(name: str, column: pd.Series, labels: list[str]) -> Problem | None:
    unknown = _unknown(column, labels)
    count = int(unknown.sum())
    if not count:
        return None
    shown = ", ".join(repr(str(v)) for v in column[unknown].unique()[:SHOWN_VALUES])
    known = f"the {len(labels)} categories seen in training"
    detail = f"{count} {_values(count)} not among {known} ({shown})"
    return Problem(name, "category", count, _first(unknown), detail)


def _column_problems(entry: dict[str, Any], column: pd.Series) -> list[Problem]:
    name, kind = entry["name"], entry["dtype"]
    wrong = _dtype_problem(name, kind, column)
    if wrong is not None:
        return [wrong]
    found = [] if kind != "int" else [_fraction_problem(name, column)]
    if not entry["nullable"]:
        found.append(_null_problem(name, column))
    labels = entry.get("categories")
    if kind in ("category", "str") and isinstance(labels, list):
        found.append(_category_problem(name, column, labels))
    return [p for p in found if p is not None]


def check_frame(frame: pd.DataFrame, schema: dict[str, Any]) -> list[Problem]:
    """Every problem of ``frame`` against ``schema``, in schema column order; [] when none."""
    problems = missing_columns((str(c) for c in frame.columns), schema)
    absent = {p.column for p in problems}
    for entry in schema["columns"]:
        if entry["name"] not in absent:
            problems += _column_problems(entry, frame[entry["name"]])
    return problems


def summary(problems: list[Problem], offset: int = 0) -> str:
    """One line: the first problem, and how many more there are."""
    more = len(problems) - 1
    tail = f"; and {more} more problem{'s' if more > 1 else ''}" if more > 0 else ""
    return problems[0].describe(offset) + tail
