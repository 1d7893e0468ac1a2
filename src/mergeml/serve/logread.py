"""Read the prediction log (or its feedback) for a range of days.

Only the partitions of the days asked for are listed and opened. Part files written by
different model versions may hold different columns: the tables are unified, a column a
file lacks is null for its rows, numbers widen (int64 and double give double), and a
column whose types cannot be unified (labels that were numbers in one file and text in
another) is read as text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from mergeml.errors import PredictionLogError, UsageError
from mergeml.serve.logstore import KINDS, PREDICTIONS, LogStore

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


def _day(value: date | datetime | str | None, name: str) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"{name} must be a date (YYYY-MM-DD), not {value!r}") from exc


def _conflicts(tables: list[pa.Table]) -> set[str]:
    """The columns whose types differ between ``tables`` beyond numeric widening."""
    import pyarrow as pa

    types: dict[str, set[pa.DataType]] = {}
    for table in tables:
        for field in table.schema:
            types.setdefault(field.name, set()).add(field.type)
    bad = set()
    for name, found in types.items():
        if len(found) < 2:
            continue
        try:
            pa.unify_schemas(
                [pa.schema([pa.field(name, t)]) for t in found], promote_options="permissive"
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            bad.add(name)
    return bad


def unify(tables: list[pa.Table]) -> pa.Table:
    """One table of all ``tables`` (see the module's docstring)."""
    import pyarrow as pa

    bad = _conflicts(tables)
    if bad:
        fixed = []
        for table in tables:
            for name in bad & set(table.column_names):
                i = table.column_names.index(name)
                table = table.set_column(i, name, table[i].cast(pa.string()))
            fixed.append(table)
        tables = fixed
    return pa.concat_tables(tables, promote_options="permissive")


def read_log_table(
    url: str,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    kind: str = PREDICTIONS,
) -> pa.Table:
    """The rows of ``kind`` ("predictions" or "feedback") at ``url`` recorded on the days
    from ``start`` to ``end`` (both included; None: no bound), oldest part file first."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    store = LogStore.open(url)
    tables = []
    for folder in store.partitions(kind, _day(start, "start"), _day(end, "end")):
        for path in store.parts(folder):
            try:
                with store.fs.open(path, "rb") as handle:
                    tables.append(pq.read_table(handle).replace_schema_metadata(None))
            except (OSError, pa.ArrowException) as exc:
                reason = " ".join(str(exc).split())
                where = store.display(path)
                raise PredictionLogError(f"{where}: unreadable part file ({reason})") from exc
    if not tables:
        return pa.table({})
    return unify(tables)


def read_log(
    url: str,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    kind: str = PREDICTIONS,
) -> pd.DataFrame:
    """`read_log_table` as a pandas DataFrame."""
    return read_log_table(url, start, end, kind).to_pandas()
