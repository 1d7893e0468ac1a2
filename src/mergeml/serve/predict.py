"""`mergeml predict`: score a CSV or Parquet file with a pulled model, batch by batch.

Each batch is read (feature columns only), checked against the model's input schema,
scored and appended to a temporary output file; the output is renamed into place only
after the last batch, so a failure anywhere leaves no output. A classifier's output is
``prediction`` plus one ``proba_<class>`` column per class (``prediction`` is the class of
highest probability, as scikit-learn's own classifiers decide); a regressor's is
``prediction``. The model's name, version, stage, commit and md5 go into a Parquet
output's key-value metadata (``mergeml.name``...).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.errors import DataError, ModelFileError, UsageError
from mergeml.model.io import load_model_bytes
from mergeml.serve.batches import Sink, file_format, open_input
from mergeml.serve.fetch import MANIFEST
from mergeml.serve.progress import Progress
from mergeml.serve.schema_check import check_frame, missing_columns, summary

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

DEFAULT_BATCH_ROWS = 65_536
METADATA_KEYS = ("name", "version", "stage", "commit", "md5")


@dataclass(frozen=True)
class Pulled:
    """A loaded model and the manifest `mergeml pull` wrote beside it."""

    model: Any
    manifest: dict[str, Any]
    schema: dict[str, Any]


@dataclass(frozen=True)
class Scored:
    """What `predict_file` wrote."""

    output: Path
    rows: int
    batches: int
    seconds: float  # reading, checking, scoring and writing (not loading the model)
    manifest: dict[str, Any]


def load_pulled(directory: Path) -> Pulled:
    """The model in ``directory`` (a `mergeml pull` output), checked against its manifest's
    md5, trusted types and scikit-learn version."""
    path = directory / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(
            f"{directory} holds no {MANIFEST}: give a `mergeml pull` output"
        ) from exc
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path} is unreadable: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("file"), str) or "md5" not in doc:
        raise ModelFileError(f"{path} is not a `mergeml pull` manifest (no file or md5)")
    schema = doc.get("input_schema")
    if not isinstance(schema, dict):
        raise ModelFileError(
            f"{path} records no input schema: pull a version trained with the schema stage"
        )
    model_path = directory / Path(doc["file"]).name
    try:
        data = model_path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"cannot read {model_path}: {exc.strerror or exc}") from exc
    actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if actual != doc["md5"]:  # before parsing: bytes the manifest does not vouch for
        raise ModelFileError(
            f"{model_path} does not match its manifest: md5 {actual[:8]} but {MANIFEST} "
            f"records {str(doc['md5'])[:8]}; pull it again"
        )
    return Pulled(load_model_bytes(data, model_path), doc, schema)


def _classes(model: Any) -> np.ndarray | None:
    """A classifier's classes (None for a regressor)."""
    if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
        classes: np.ndarray = model.classes_
        return classes
    return None


def output_schema(pulled: Pulled) -> pa.Schema:
    """``prediction`` (and ``proba_<class>``), with the model's identity as metadata."""
    import pyarrow as pa

    classes = _classes(pulled.model)
    if classes is None:
        fields = [pa.field("prediction", pa.float64())]
    else:
        fields = [pa.field("prediction", pa.array(classes).type)]
        fields += [pa.field(f"proba_{c}", pa.float64()) for c in classes]
    meta = {
        f"mergeml.{k}": str(pulled.manifest[k]) for k in METADATA_KEYS if pulled.manifest.get(k)
    }
    return pa.schema(fields, metadata=meta)


def score_arrays(model: Any, features: Any) -> list[np.ndarray]:
    """The output columns of ``features`` (a DataFrame in training column order) as numpy
    arrays, in `output_schema` order."""
    import numpy as np

    classes = _classes(model)
    if classes is None:
        return [np.asarray(model.predict(features), dtype="float64")]
    proba = model.predict_proba(features)  # once: the prediction is its argmax
    return [classes[np.argmax(proba, axis=1)], *(proba[:, i] for i in range(proba.shape[1]))]


def score(model: Any, features: Any, schema: pa.Schema) -> pa.RecordBatch:
    """The predictions for ``features`` (a DataFrame in training column order)."""
    import pyarrow as pa

    arrays = score_arrays(model, features)
    columns = [pa.array(a, type=f.type) for a, f in zip(arrays, schema, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _check_paths(source: Path, output: Path, batch_rows: int) -> None:
    file_format(source, "INPUT")
    file_format(output, "OUTPUT")
    if batch_rows < 1:
        raise UsageError(f"--batch-rows must be at least 1, not {batch_rows}")
    if output.resolve() == source.resolve():
        raise UsageError(f"OUTPUT {output} is the INPUT: write the predictions elsewhere")


def _batches(
    source: Path, pulled: Pulled, batch_rows: int
) -> tuple[Iterator[pa.RecordBatch], int | None]:
    """The input's feature batches (missing columns refused before any is read)."""
    opened = open_input(source, pulled.schema, batch_rows)
    missing = missing_columns(opened.names, pulled.schema)
    if missing:
        raise DataError(f"{source}: {summary(missing)}")
    return opened.batches, opened.rows


def _read(batches: Iterator[pa.RecordBatch], source: Path) -> Iterator[pa.RecordBatch]:
    """``batches``, with a file that breaks mid-way (truncated, corrupted) one DataError."""
    import pyarrow as pa

    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, pa.ArrowException) as exc:
            reason = " ".join(str(exc).split())
            raise DataError(f"{source}: unreadable after the rows scored so far: {reason}") from exc
        yield batch


def _score_all(
    pulled: Pulled, source: Path, batches: Iterator[pa.RecordBatch], sink: Sink, bar: Progress
) -> tuple[int, int]:
    """Check, score and write every batch; (rows, batches)."""
    columns = [c["name"] for c in pulled.schema["columns"]]
    rows = count = 0
    for count, batch in enumerate(_read(batches, source), start=1):
        frame = batch.to_pandas()
        where = f"batch {count} (rows {rows + 1}-{rows + len(frame)})"
        problems = check_frame(frame, pulled.schema)
        if problems:
            raise DataError(f"{source}: {where}: {summary(problems, rows + 1)}")
        try:
            scored = score(pulled.model, frame[columns], sink.schema)
        except (ValueError, TypeError) as exc:  # what the schema check cannot foresee
            reason = " ".join(str(exc).split())[:300]
            raise DataError(f"{source}: {where}: the model cannot score it ({reason})") from exc
        sink.write(scored)
        rows += len(frame)
        bar.advance(len(frame))
    return rows, count


def predict_file(
    pulled: Pulled, source: Path, output: Path, *, batch_rows: int = DEFAULT_BATCH_ROWS
) -> Scored:
    """Score ``source`` into ``output`` (CSV or Parquet each), ``batch_rows`` at a time."""
    _check_paths(source, output, batch_rows)
    start = time.perf_counter()
    batches, total = _batches(source, pulled, batch_rows)
    sink = Sink(output, output_schema(pulled))
    bar = Progress(total)
    try:
        rows, count = _score_all(pulled, source, batches, sink, bar)
        sink.commit()
    except BaseException:
        bar.close(ok=False)
        sink.discard()
        raise
    bar.close(ok=True)
    return Scored(output, rows, count, time.perf_counter() - start, pulled.manifest)
