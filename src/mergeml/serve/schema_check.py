"""Check a frame of model inputs against the model's input schema (`mergeml.model.schema`).

Pure functions over a pandas DataFrame (`check_frame`: `mergeml predict` runs it on every
batch it reads) or over a request's columns (`check_columns`: what `mergeml serve` runs on
every request, before any DataFrame is built). Each problem names its column, what is
wrong, how many rows have it and the first of them (a position in the frame, from 0).
Columns the schema does not list are ignored (they are not features).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


def _dtype_fits(kind: str, values: Any) -> bool:
    """Whether ``values`` (a numpy or pandas extension array) can hold ``kind``."""
    import numpy as np
    import pandas as pd

    dtype = values.dtype
    types = pd.api.types
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":  # the common case, cheaply
        if kind == "bool":
            return dtype.kind == "b"
        if kind in ("int", "float"):
            return dtype.kind in "iufc"
        return False
    if kind == "bool":
        return bool(types.is_bool_dtype(dtype))
    if kind in ("int", "float"):
        return bool(types.is_numeric_dtype(dtype) and not types.is_bool_dtype(dtype))
    if isinstance(dtype, pd.CategoricalDtype):
        return types.infer_dtype(dtype.categories, skipna=True) in ("string", "empty")
    return types.infer_dtype(values, skipna=True) in ("string", "empty")


def _dtype_problem(name: str, kind: str, values: Any) -> Problem | None:
    """A wrong column dtype for ``kind``, or None when the column can hold it."""
    if _dtype_fits(kind, values):
        return None
    detail = f"dtype {values.dtype}, the model needs {kind}"
    return Problem(name, "dtype", len(values), None, detail)


def _floats(values: Any) -> Any:
    """``values`` as a float64 numpy array, NaN for a missing value."""
    import numpy as np

    if isinstance(values, np.ndarray):
        return values.astype("float64", copy=False)
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _fraction_problem(name: str, values: Any) -> Problem | None:
    """An ``int`` column given as floats: the non-integral values."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_integer_dtype(values.dtype):
        return None
    floats = _floats(values)
    bad = np.isfinite(floats) & (np.floor(floats) != floats) | np.isinf(floats)
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


def _null_problem(name: str, values: Any) -> Problem | None:
    import pandas as pd

    nulls = pd.isna(values)
    count = int(nulls.sum())
    if not count:
        return None
    detail = (
        f"{count} missing {_values(count)} (NaN or empty), not nullable in the model's input schema"
    )
    return Problem(name, "null", count, _first(nulls), detail)


def _unknown(values: Any, labels: list[str]) -> Any:
    """The rows whose value is not null and not among ``labels`` (a boolean array)."""
    import numpy as np
    import pandas as pd

    if len(values) > SMALL_ROWS:
        known = pd.Series(values, copy=False).isin(labels).to_numpy(dtype=bool)
        return ~known & ~np.asarray(pd.isna(values), dtype=bool)
    allowed = set(labels)  # the dtype check passed: every non-null value is text
    items = np.asarray(values, dtype=object)
    return np.fromiter((isinstance(v, str) and v not in allowed for v in items), bool, len(items))


def _category_problem(name: str, values: Any, labels: list[str]) -> Problem | None:
    import pandas as pd

    unknown = _unknown(values, labels)
    count = int(unknown.sum())
    if not count:
        return None
    seen = pd.unique(pd.Series(values, copy=False)[unknown].astype(object))
    shown = ", ".join(repr(str(v)) for v in seen[:SHOWN_VALUES])
    known = f"the {len(labels)} categories seen in training"
    detail = f"{count} {_values(count)} not among {known} ({shown})"
    return Problem(name, "category", count, _first(unknown), detail)


def _column_problems(entry: dict[str, Any], values: Any) -> list[Problem]:
    name, kind = entry["name"], entry["dtype"]
    wrong = _dtype_problem(name, kind, values)
    if wrong is not None:
        return [wrong]
    found = [] if kind != "int" else [_fraction_problem(name, values)]
    if not entry["nullable"]:
        found.append(_null_problem(name, values))
    labels = entry.get("categories")
    if kind in ("category", "str") and isinstance(labels, list):
        found.append(_category_problem(name, values, labels))
    return [p for p in found if p is not None]


def check_columns(columns: Mapping[str, Any], schema: dict[str, Any]) -> list[Problem]:
    """Every problem of ``columns`` (name to a numpy or pandas extension array, see
    `mergeml.serve.columns`) against ``schema``, in schema column order; [] when none."""
    problems = missing_columns(columns, schema)
    absent = {p.column for p in problems}
    for entry in schema["columns"]:
        if entry["name"] not in absent:
            problems += _column_problems(entry, columns[entry["name"]])
    return problems


def check_frame(frame: pd.DataFrame, schema: dict[str, Any]) -> list[Problem]:
    """Every problem of ``frame`` against ``schema``, in schema column order; [] when none."""
    from mergeml.serve.columns import values_of

    names = {str(c): c for c in frame.columns}
    wanted = [c["name"] for c in schema["columns"] if c["name"] in names]
    return check_columns({n: values_of(frame[names[n]]) for n in wanted}, schema)


def summary(problems: list[Problem], offset: int = 0) -> str:
    """One line: the first problem, and how many more there are."""
    more = len(problems) - 1
    tail = f"; and {more} more problem{'s' if more > 1 else ''}" if more > 0 else ""
    return problems[0].describe(offset) + tail
