"""Validate a training table before anything is fitted; every problem is reported at once.

The declared columns are checked by a pandera ``DataFrameSchema`` run lazily; its failure
cases are summarised as one line per problem (column and count) and joined into a single
DataError together with the frame and target checks that apply with or without a spec.

Dtypes are checked by kind, not by exact NumPy type: ``float`` accepts any float dtype,
``int`` any integer dtype (not bool), ``bool`` ``bool``/``boolean``, ``category`` a pandas
categorical, and ``str`` a string dtype or an object column holding only strings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from mergeml.data.spec import ColumnSpec, TableSpec
from mergeml.errors import DataError

log = logging.getLogger(__name__)

_MAX_LISTED = 5
_MAX_ITEM = 60

_DTYPE = "mergeml_dtype"
_FINITE = "mergeml_finite"
_MIN = "mergeml_min"
_MAX = "mergeml_max"
_IN_CATEGORIES = "mergeml_in_categories"
_DECLARED_CATEGORIES = "mergeml_declared_categories"


def validate_table(
    df: pd.DataFrame,
    *,
    target: str,
    task: Literal["classification", "regression"],
    spec: TableSpec | None = None,
    min_class_members: int = 2,
) -> None:
    """Raise one DataError listing every problem in ``df``; return None if it is usable."""
    if task not in ("classification", "regression"):
        raise DataError(f"unknown task {task!r} (expected classification or regression)")
    problems: list[str] = []
    duplicated = df.columns[df.columns.duplicated()].unique()
    if len(duplicated):
        raise DataError(f"data has duplicate column names: {_join(duplicated)}")
    if len(df) == 0:
        problems.append("data has no rows")
    if target not in df.columns:
        columns = _join(df.columns, limit=20) or "none"
        problems.append(f"target column {target!r} not found in data (columns: {columns})")
    elif len(df):
        problems.extend(target_problems(df[target], task=task, min_class_members=min_class_members))
    if spec is None:
        problems.extend(_infinite_feature_problems(df, skip=target))
    else:
        # Target nulls, non-finite values and absence are already reported above, by name.
        covered = {"column_in_dataframe", "not_nullable", _FINITE}
        problems.extend(
            p.text for p in spec_problems(df, spec) if p.column != target or p.check not in covered
        )
    if problems:
        message = f"data validation failed ({_count(len(problems), 'problem')}): "
        raise DataError(message + "; ".join(problems))
    log.debug("validated %d rows x %d columns (target %r)", len(df), df.shape[1], target)


def target_problems(
    y: pd.Series, *, task: Literal["classification", "regression"], min_class_members: int
) -> list[str]:
    """Problems with the target column: nulls, classes too few or too small, non-finite values."""
    where = f"target column {y.name!r}"
    problems = []
    n_null = int(y.isna().sum())
    if n_null:
        problems.append(f"{where}: {_count(n_null, 'null value')}")
    present = y.dropna()
    if task == "classification":
        counts = present.value_counts(sort=False)
        counts = counts[counts > 0].sort_index(key=_sort_key)
        if len(counts) < 2:
            found = _join(f"{_label(c)}: {n} rows" for c, n in counts.items()) or "none"
            problems.append(
                f"{where}: classification needs at least 2 classes, found {len(counts)} ({found})"
            )
        small = counts[counts < min_class_members]
        if len(small) and len(counts) >= 2:
            listed = _join(f"{_label(c)} has {n}" for c, n in small.items())
            classes = _count(len(small), "class", "classes")
            problems.append(
                f"{where}: {classes} with fewer than {min_class_members} members ({listed})"
            )
    elif not _is_real_numeric(y.dtype):
        problems.append(f"{where}: regression needs a numeric target, got dtype {y.dtype}")
    else:
        n_bad = int((~np.isfinite(_as_float(present))).sum())
        if n_bad:
            problems.append(f"{where}: {_count(n_bad, 'non-finite value')}")
    return problems


class Problem(NamedTuple):
    """One schema problem: the column, the pandera check that failed, and a one-line text."""

    column: str
    check: str
    text: str


def spec_problems(df: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    """Run the spec's pandera schema lazily; one message per (column, problem)."""
    schema = build_schema(spec)
    try:
        schema.validate(df, lazy=True, inplace=True)  # no copy of the whole frame
    except SchemaErrors as exc:
        return _summarise(exc.failure_cases, df, spec)
    return []


def build_schema(spec: TableSpec) -> pa.DataFrameSchema:
    """The pandera schema for ``spec`` (dtype, nullability, finiteness, bounds, categories)."""
    columns = {
        c.name: pa.Column(None, checks=_checks(c), nullable=c.nullable) for c in spec.columns
    }
    return pa.DataFrameSchema(columns, strict=spec.strict)


def _checks(col: ColumnSpec) -> list[pa.Check]:
    dtype_ok = _DTYPE_TESTS[col.dtype]
    checks = [pa.Check(lambda s: bool(dtype_ok(s)), name=_DTYPE)]

    def guarded(test: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], object]:
        # Value checks only run on the right kind of column; a wrong dtype is reported once.
        return lambda s: test(s) if dtype_ok(s) else True

    if col.dtype == "float":
        checks.append(
            pa.Check(guarded(lambda s: _mask(s, np.isfinite(_as_float(s)))), name=_FINITE)
        )
    if col.min is not None:
        low = col.min
        # Non-finite values are reported by the finite check, not again as out of range.
        checks.append(pa.Check(guarded(lambda s: _in_bound(s, low, np.less)), name=_MIN))
    if col.max is not None:
        high = col.max
        checks.append(pa.Check(guarded(lambda s: _in_bound(s, high, np.greater)), name=_MAX))
    if col.categories is not None:
        allowed = list(col.categories)
        # Runs on any label column, so unknown labels show up even next to a dtype problem.
        checks.append(
            pa.Check(lambda s: s.isin(allowed) if _is_labels(s) else True, name=_IN_CATEGORIES)
        )
        if col.dtype == "category":
            checks.append(
                pa.Check(
                    guarded(lambda s: not _undeclared_categories(s, allowed)),
                    name=_DECLARED_CATEGORIES,
                )
            )
    return checks


def _summarise(cases: pd.DataFrame, df: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    """Turn pandera failure cases into problems, in spec column order, extras last."""
    by_name = {c.name: c for c in spec.columns}
    problems: list[Problem] = []
    for row in cases[cases["column"].isna()].itertuples(index=False):
        name, check = str(row.failure_case), str(row.check)
        if check == "column_in_dataframe":
            problems.append(Problem(name, check, f"column {name!r}: missing column"))
        elif check == "column_in_schema":
            problems.append(Problem(name, check, f"column {name!r}: unexpected column"))
        else:
            problems.append(Problem(name, check, f"data failed check {check!r}: {name}"))
    column_cases = cases[cases["column"].notna()]
    for (column, check), group in column_cases.groupby(["column", "check"], sort=False):
        name = str(column)
        col = by_name.get(name)
        text = _describe(str(check), len(group), col, df[name] if col else None)
        problems.append(Problem(name, str(check), f"column {name!r}: {text}"))
    order = {name: i for i, name in enumerate(spec.names)}
    return sorted(problems, key=lambda p: order.get(p.column, len(order)))


def _describe(check: str, n: int, col: ColumnSpec | None, s: pd.Series | None) -> str:
    values = _count(n, "value")
    if col is None or s is None:
        return f"{values} failed check {check!r}"
    if check == "not_nullable":
        return f"{_count(n, 'null value')} in a non-nullable column"
    if check == _DTYPE:
        return f"dtype {s.dtype}, expected {col.dtype}"
    if check == _FINITE:
        return _count(n, "non-finite value")
    if check == _MIN:
        return f"{values} below the minimum {col.min}"
    if check == _MAX:
        return f"{values} above the maximum {col.max}"
    if check == _IN_CATEGORIES:
        unknown = pd.unique(s[~s.isin(list(col.categories or ())) & s.notna()])
        examples = _join(_label(v) for v in unknown)
        return f"{values} outside the allowed categories ({examples})"
    if check == _DECLARED_CATEGORIES:
        extra = _undeclared_categories(s, list(col.categories or ()))
        declared = _count(len(extra), "category", "categories")
        return f"dtype declares {declared} not in the allowed list ({_join(map(_label, extra))})"
    return f"{values} failed check {check!r}"


def _infinite_feature_problems(df: pd.DataFrame, *, skip: str) -> list[str]:
    """Without a spec: float features must not hold +/-inf (NaN is left to the model)."""
    problems = []
    for name, s in df.items():
        if name != skip and pd.api.types.is_float_dtype(s.dtype):
            n_inf = int(np.isinf(_as_float(s)).sum())
            if n_inf:
                problems.append(f"column {name!r}: {_count(n_inf, 'non-finite value')}")
    return problems


def _mask(s: pd.Series, ok: np.ndarray) -> pd.Series:
    return pd.Series(ok, index=s.index)


def _in_bound(s: pd.Series, bound: float, beyond: np.ufunc) -> pd.Series:
    """True where a value is within the bound, null, or non-finite (reported elsewhere)."""
    x = _as_float(s)
    return _mask(s, ~(beyond(x, bound) & np.isfinite(x)))


def _as_float(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _is_real_numeric(dtype: object) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _is_str(s: pd.Series) -> bool:
    if pd.api.types.is_string_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        if s.dtype == object:
            return bool(s.dropna().map(type).eq(str).all())
        return True
    return False


def _is_labels(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.CategoricalDtype) or _is_str(s)


_DTYPE_TESTS: dict[str, Callable[[pd.Series], bool]] = {
    "float": lambda s: pd.api.types.is_float_dtype(s.dtype),
    "int": lambda s: pd.api.types.is_integer_dtype(s.dtype),
    "bool": lambda s: pd.api.types.is_bool_dtype(s.dtype),
    "category": lambda s: isinstance(s.dtype, pd.CategoricalDtype),
    "str": _is_str,
}


def _undeclared_categories(s: pd.Series, allowed: list[str]) -> list[object]:
    return [c for c in s.cat.categories if c not in set(allowed)]


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _join(items: Iterable[object], limit: int = _MAX_LISTED) -> str:
    items = list(items)
    shown = ", ".join(_clip(str(i)) for i in items[:limit])
    if len(items) > limit:
        shown += f", ... ({len(items) - limit} more)"
    return shown


def _clip(text: str) -> str:
    """One listed name or label, at most ``_MAX_ITEM`` characters (a binary header is long)."""
    return text if len(text) <= _MAX_ITEM else text[: _MAX_ITEM - 3] + "..."


def _label(value: object) -> str:
    """A class or category label for messages: quoted strings, plain numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def _sort_key(index: pd.Index) -> pd.Index:
    return index.map(str) if index.dtype == object else index
