"""Frozen, typed description of a table contract: columns, dtypes, nulls, ranges, categories."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from mergeml.errors import DataError

Dtype = Literal["float", "int", "bool", "category", "str"]
DTYPES: tuple[str, ...] = get_args(Dtype)
_NUMERIC: frozenset[str] = frozenset({"float", "int"})
_LABELLED: frozenset[str] = frozenset({"category", "str"})
_MAPPING_KEYS: frozenset[str] = frozenset({"dtype", "nullable", "min", "max", "categories"})


@dataclass(frozen=True)
class ColumnSpec:
    """One column: logical dtype, nullability, inclusive numeric bounds, allowed labels.

    ``min``/``max`` apply to ``float`` and ``int`` columns only; ``categories`` to
    ``category`` and ``str`` columns only (``None`` means any label is allowed).
    """

    name: str
    dtype: Dtype
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        where = f"column {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise DataError(f"column name must be a non-empty string, got {self.name!r}")
        if self.dtype not in DTYPES:
            raise DataError(
                f"{where}: unknown dtype {self.dtype!r} (expected one of {', '.join(DTYPES)})"
            )
        if not isinstance(self.nullable, bool):
            raise DataError(f"{where}: 'nullable' must be true or false, got {self.nullable!r}")
        for key, bound in (("min", self.min), ("max", self.max)):
            if bound is None:
                continue
            if self.dtype not in _NUMERIC:
                raise DataError(f"{where}: {key!r} is only allowed for float or int columns")
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise DataError(f"{where}: {key!r} must be a number, got {bound!r}")
            if math.isnan(bound):
                raise DataError(f"{where}: {key!r} must not be NaN")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise DataError(f"{where}: min {self.min} is greater than max {self.max}")
        if self.categories is not None:
            _check_categories(where, self.dtype, self.categories)


def _check_categories(where: str, dtype: str, categories: object) -> None:
    if dtype not in _LABELLED:
        raise DataError(f"{where}: 'categories' is only allowed for category or str columns")
    if not isinstance(categories, tuple) or not categories:
        raise DataError(f"{where}: 'categories' must be a non-empty tuple of strings")
    bad = [c for c in categories if not isinstance(c, str)]
    if bad:
        raise DataError(f"{where}: {len(bad)} categories are not strings (e.g. {bad[0]!r})")
    if len(set(categories)) != len(categories):
        raise DataError(f"{where}: categories contain duplicates")


@dataclass(frozen=True)
class TableSpec:
    """An ordered set of column contracts; ``strict`` makes undeclared columns an error."""

    columns: tuple[ColumnSpec, ...]
    strict: bool = True

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise DataError(f"table spec declares columns more than once: {', '.join(duplicated)}")

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in declared order."""
        return tuple(c.name for c in self.columns)


def columns_from_mapping(mapping: Mapping[str, object]) -> tuple[ColumnSpec, ...]:
    """Build column specs from ``{name: {dtype, nullable, min, max, categories}}`` (YAML shape).

    Unknown keys, a missing ``dtype`` and wrongly typed values raise DataError naming the column.
    """
    if not isinstance(mapping, Mapping):
        raise DataError(f"schema must be a mapping of column names, got {type(mapping).__name__}")
    specs = []
    for name, settings in mapping.items():
        where = f"column {name!r}"
        if not isinstance(settings, Mapping):
            raise DataError(f"{where}: expected a mapping of settings, got {settings!r}")
        unknown = sorted(str(k) for k in settings if k not in _MAPPING_KEYS)
        if unknown:
            allowed = ", ".join(sorted(_MAPPING_KEYS))
            listed = ", ".join(repr(k) for k in unknown)
            plural = "key" if len(unknown) == 1 else "keys"
            raise DataError(f"{where}: unknown {plural} {listed} (allowed: {allowed})")
        if "dtype" not in settings:
            raise DataError(f"{where}: missing required key 'dtype'")
        categories = settings.get("categories")
        if categories is not None:
            if isinstance(categories, str) or not isinstance(categories, list | tuple):
                raise DataError(f"{where}: 'categories' must be a list of strings")
            categories = tuple(categories)
        specs.append(
            ColumnSpec(
                name=name,
                dtype=settings["dtype"],
                nullable=settings.get("nullable", False),
                min=settings.get("min"),
                max=settings.get("max"),
                categories=categories,
            )
        )
    return tuple(specs)
