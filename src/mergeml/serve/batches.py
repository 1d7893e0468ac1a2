"""Read a CSV or Parquet file as record batches of a fixed size, and write batches to one.

Only the model's feature columns are read; memory holds one batch (plus one Parquet row
group or one CSV block being decoded), whatever the file's size. Writers write into a
temporary file beside the output, renamed into place by `commit`; `discard` removes it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.errors import DataError, UsageError

if TYPE_CHECKING:
    import pyarrow as pa

PARQUET, CSV = "parquet", "csv"
SUFFIXES = {".parquet": PARQUET, ".pq": PARQUET, ".csv": CSV}
_CSV_COLUMN = re.compile(r"In CSV column #(\d+): ")


def file_format(path: Path, role: str) -> str:
    """``parquet`` or ``csv`` from the file's extension; UsageError for any other."""
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        known = ", ".join(SUFFIXES)
        raise UsageError(f"{role} {path}: unknown file type '{path.suffix}' (use {known})")
    return found


@dataclass
class Source:
    """An open input: its column names, its row count when known, and its batches."""

    names: list[str]
    rows: int | None
    batches: Iterator[pa.RecordBatch]


def _arrow_type(kind: str) -> pa.DataType:
    import pyarrow as pa

    types = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
    return types.get(kind, pa.dictionary(pa.int32(), pa.string()))


def _parquet(path: Path, columns: list[str], batch_rows: int) -> Source:
    import pyarrow.parquet as pq

    # Column chunks streamed 1 MiB at a time, not pre-read whole: a file written by pandas
    # is one row group of up to 1 Mi rows, and its chunks would all be held at once.
    handle = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
    names = handle.schema_arrow.names
    wanted = [c for c in columns if c in names]
    rows = handle.metadata.num_rows
    return Source(names, rows, handle.iter_batches(batch_size=batch_rows, columns=wanted))


def _csv_error(exc: Exception, names: list[str], path: Path, rows: int) -> DataError:
    """A CSV conversion error (a value not of the column's dtype) as one line naming the
    column and the first row of the block being read."""
    message = " ".join(str(exc).split())
    found = _CSV_COLUMN.match(message)
    if found and int(found.group(1)) < len(names):
        message = f"column '{names[int(found.group(1))]}': {message[found.end() :]}"
    return DataError(f"{path}: in the block of rows from row {rows + 1}: {message}")


def _csv_batches(reader: Any, names: list[str], path: Path) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    rows = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            raise _csv_error(exc, names, path, rows) from exc
        rows += batch.num_rows
        yield batch


def _csv_header(path: Path) -> list[str]:
    """The column names on the first line of ``path``."""
    import csv

    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return next(csv.reader(handle), [])


def _csv(path: Path, schema: dict[str, Any]) -> Source:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = _csv_header(path)
    kinds = {c["name"]: c["dtype"] for c in schema["columns"] if c["name"] in names}
    options = pacsv.ConvertOptions(
        column_types={name: _arrow_type(kind) for name, kind in kinds.items()},
        strings_can_be_null=True,
        include_columns=list(kinds),
    )
    try:
        reader = pacsv.open_csv(path, convert_options=options)
    except pa.ArrowInvalid as exc:  # the first block is read at once
        raise _csv_error(exc, names, path, 0) from exc
    return Source(names, None, _csv_batches(reader, names, path))


def open_input(path: Path, schema: dict[str, Any], batch_rows: int) -> Source:
    """The feature columns of ``path`` (CSV or Parquet), in batches of ``batch_rows`` rows."""
    import pyarrow as pa

    kind = file_format(path, "INPUT")
    if not path.is_file():
        raise DataError(f"input file not found: {path}")
    columns = [c["name"] for c in schema["columns"]]
    try:
        source = _parquet(path, columns, batch_rows) if kind == PARQUET else _csv(path, schema)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(
            f"{path}: not a readable {kind} file ({' '.join(str(exc).split())})"
        ) from exc
    return Source(source.names, source.rows, rebatch(source.batches, batch_rows))


def rebatch(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """The same rows in batches of exactly ``size`` rows (the last may be shorter)."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        if not pending and batch.num_rows == size:
            yield batch  # the usual case for Parquet: no copy
            continue
        pending.append(batch)
        held += batch.num_rows
        while held >= size:
            table = pa.Table.from_batches(pending)
            yield from table.slice(0, size).combine_chunks().to_batches(max_chunksize=size)
            rest = table.slice(size)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield from pa.Table.from_batches(pending).combine_chunks().to_batches(max_chunksize=size)


class Sink:
    """An output file written batch by batch into a temporary file beside it."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        self.path, self.schema = path, schema
        self.kind = file_format(path, "OUTPUT")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as exc:
            raise self._error(exc) from exc
        os.close(handle)
        self.tmp = Path(name)
        if self.kind == PARQUET:
            self.writer: Any = pq.ParquetWriter(self.tmp, schema)
        else:
            self.writer = pacsv.CSVWriter(self.tmp, schema)

    def _error(self, exc: OSError) -> DataError:
        return DataError(f"cannot write {self.path}: {exc.strerror or exc}")

    def write(self, batch: pa.RecordBatch) -> None:
        try:
            self.writer.write_batch(batch)
        except OSError as exc:  # a full disk
            raise self._error(exc) from exc

    def commit(self) -> None:
        """Close the file and rename it over the output."""
        try:
            self.writer.close()
            os.chmod(self.tmp, 0o644)  # mkstemp makes it 0600
            os.replace(self.tmp, self.path)
        except OSError as exc:
            raise self._error(exc) from exc

    def discard(self) -> None:
        """Close and remove the temporary file (the output is left as it was)."""
        with contextlib.suppress(Exception):  # a half-written file may not close: removed anyway
            self.writer.close()
        self.tmp.unlink(missing_ok=True)
