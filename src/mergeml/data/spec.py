"""Frozen, typed description of a table contract: columns, dtypes, nulls, ranges, categories.

The rules for one column live in one place, the params schema
(:class:`mergeml.config.schema.ColumnConfig`, what `data.columns` holds): `mergeml params
check` refuses a bad declaration before anything runs, and every :class:`ColumnSpec`,
declared in params.yaml or in code, is checked by the same model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from mergeml.config.schema import COLUMN_DTYPES, ColumnConfig, ColumnDtype
from mergeml.errors import DataError

Dtype = ColumnDtype
DTYPES: tuple[str, ...] = COLUMN_DTYPES


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
        if not isinstance(self.name, str) or not self.name:
            raise DataError(f"column name must be a non-empty string, got {self.name!r}")
        settings = {
            "dtype": self.dtype,
            "nullable": self.nullable,
            "min": self.min,
            "max": self.max,
            "categories": self.categories,
        }
        config = column_config(self.name, settings)
        object.__setattr__(self, "categories", config.categories)  # a list becomes a tuple

    @classmethod
    def from_config(cls, name: str, config: ColumnConfig) -> ColumnSpec:
        """The contract of column ``name`` as params.yaml declares it."""
        return cls(name, config.dtype, config.nullable, config.min, config.max, config.categories)


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

    @classmethod
    def from_config(cls, columns: Mapping[str, ColumnConfig]) -> TableSpec:
        """The strict contract that `data.columns` declares, in declared order."""
        return cls(columns=tuple(ColumnSpec.from_config(n, c) for n, c in columns.items()))


def column_config(name: str, settings: Mapping[str, Any]) -> ColumnConfig:
    """Validate one column's settings with the params schema; DataError naming the column."""
    try:
        return ColumnConfig.model_validate(dict(settings))
    except ValidationError as exc:
        raise DataError(f"column {name!r}: {_problem(exc)}") from exc


def _problem(exc: ValidationError) -> str:
    """The first problem, in the words of a YAML column declaration."""
    errors = exc.errors()
    unknown = [str(e["loc"][-1]) for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        allowed = ", ".join(sorted(ColumnConfig.model_fields))
        listed = ", ".join(repr(k) for k in sorted(unknown))
        plural = "key" if len(unknown) == 1 else "keys"
        return f"unknown {plural} {listed} (allowed: {allowed})"
    err = errors[0]
    if err["type"] == "missing":
        return f"missing required key {str(err['loc'][-1])!r}"
    return str(err["msg"])


def columns_from_mapping(mapping: Mapping[str, object]) -> tuple[ColumnSpec, ...]:
    """Build column specs from ``{name: {dtype, nullable, min, max, categories}}`` (YAML shape).

    Unknown keys, a missing ``dtype`` and wrongly typed values raise DataError naming the column.
    """
    if not isinstance(mapping, Mapping):
        raise DataError(f"schema must be a mapping of column names, got {type(mapping).__name__}")
    specs = []
    for name, settings in mapping.items():
        if not isinstance(settings, Mapping):
            raise DataError(f"column {name!r}: expected a mapping of settings, got {settings!r}")
        specs.append(ColumnSpec.from_config(name, column_config(name, settings)))
    return tuple(specs)
