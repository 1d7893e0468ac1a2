"""`mergeml feedback FILE`: true labels for logged requests, from a CSV or Parquet file.

FILE has columns ``request_id`` and ``label``, optionally ``row`` (the row's position in
its request, default 0) and ``time`` (when the label was known; default: now); other
columns are ignored. Every row is checked first (a missing column, an empty request id,
a missing label, a ``row`` that is not a whole number ≥ 0, a ``time`` that is not a
date-time stop it with one line naming the row); then all of them go into ONE new part
file under ``ROOT/feedback/date=<today, UTC>/``, which appears whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mergeml.errors import DataError, PredictionLogError
from mergeml.serve.batches import PARQUET, file_format
from mergeml.serve.logstore import FEEDBACK, LogStore
from mergeml.serve.logtables import feedback_table, utc

if TYPE_CHECKING:
    import pyarrow as pa

REQUIRED = ("request_id", "label")
MAX_ROW = 2**31 - 1  # the log's row column is int32


@dataclass(frozen=True)
class Recorded:
    """What `record_file` wrote: ``rows`` rows into ``part`` (None when FILE had none)."""

    source: Path
    rows: int
    part: str | None
    log: str


def _read(path: Path) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    kind = file_format(path, "FILE")
    if not path.is_file():
        raise DataError(f"feedback file not found: {path}")
    try:
        if kind == PARQUET:
            return pq.read_table(path)
        # Ids stay text however they look; empty cells are missing values.
        types = {"request_id": pa.string(), "time": pa.string()}
        options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
        return pacsv.read_csv(path, convert_options=options)
    except (OSError, pa.ArrowException) as exc:
        reason = " ".join(str(exc).split())
        raise DataError(f"{path}: not a readable {kind} file ({reason})") from exc


def _first(mask: pa.ChunkedArray | pa.Array) -> int | None:
    """The index of the first true value of ``mask`` (nulls count as true), or None."""
    import pyarrow.compute as pc

    hits = pc.indices_nonzero(pc.fill_null(mask, True))
    return int(hits[0].as_py()) if len(hits) else None


def _missing(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Null, or NaN in a float column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(column.type):
        return pc.or_(pc.is_null(column), pc.is_nan(column))
    return pc.is_null(column)


def _check_ids_and_labels(table: pa.Table, path: Path) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    absent = [c for c in REQUIRED if c not in table.column_names]
    if absent:
        have = ", ".join(table.column_names) or "none"
        raise DataError(f"{path}: no column '{absent[0]}' (its columns: {have})")
    ids = table["request_id"]
    if not pa.types.is_string(ids.type):
        try:
            ids = ids.cast(pa.string())
        except pa.ArrowException as exc:
            raise DataError(f"{path}: column 'request_id' must hold text ids") from exc
        table = table.set_column(table.column_names.index("request_id"), "request_id", ids)
    empty = _first(pc.equal(pc.utf8_trim_whitespace(ids), ""))
    if empty is not None:
        raise DataError(f"{path}: row {empty + 1}: empty request_id")
    missing = _first(_missing(table["label"]))
    if missing is not None:
        raise DataError(f"{path}: row {missing + 1}: no label (column 'label' is empty)")
    return table


def _check_rows(table: pa.Table, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    if "row" not in table.column_names:
        return
    rows = table["row"]
    if not pa.types.is_integer(rows.type):
        bad = _first(pc.invert(pc.is_valid(rows))) if rows.null_count else 0
        value = rows[bad or 0].as_py()
        raise DataError(
            f"{path}: row {(bad or 0) + 1}: 'row' must be a whole number ≥ 0, not {value!r}"
        )
    bad = _first(pc.or_(pc.less(rows, 0), pc.greater(rows, MAX_ROW)))
    if bad is not None:
        value = rows[bad].as_py()
        raise DataError(f"{path}: row {bad + 1}: 'row' must be a whole number ≥ 0, not {value!r}")


def _check_times(table: pa.Table, path: Path) -> None:
    import pandas as pd
    import pyarrow as pa

    if "time" not in table.column_names:
        return
    column = table["time"]
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        bad = _first(column.is_null())
        if bad is not None:
            raise DataError(f"{path}: row {bad + 1}: no time (column 'time' is empty)")
        return
    values = pd.Series(column.to_pylist(), dtype=object)
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    if parsed.isna().any():
        bad = int(parsed.isna().to_numpy().nonzero()[0][0])
        raise DataError(f"{path}: row {bad + 1}: 'time' is not a date-time ({values[bad]!r})")


def read_feedback(path: Path) -> pa.Table:
    """The checked rows of the feedback file ``path``."""
    table = _check_ids_and_labels(_read(path), path)
    _check_rows(table, path)
    _check_times(table, path)
    keep = [c for c in ("request_id", "row", "label", "time") if c in table.column_names]
    return table.select(keep)


def record_file(path: Path, url: str, *, now: datetime | None = None) -> Recorded:
    """Check the feedback in ``path`` and write it as one part file of the log at ``url``."""
    table = read_feedback(path)
    if table.num_rows == 0:
        return Recorded(path, 0, None, url)
    store = LogStore.open(url)
    recorded = utc(now or datetime.now(UTC))
    rows = feedback_table(table.to_pandas(), recorded)
    try:
        part = store.write_part(FEEDBACK, recorded.date(), rows)
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise PredictionLogError(f"cannot write feedback to {url}: {reason}") from exc
    return Recorded(path, table.num_rows, store.display(part), url)
