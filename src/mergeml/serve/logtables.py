"""The rows of the prediction log and of its feedback, as Arrow tables.

Predictions: one row per scored row: ``request_id`` (string), ``row`` (int32, the row's
position in its request), ``time`` (timestamp[us, UTC], when the request was received),
``model_name``, ``model_version``, ``stage``, ``model_md5`` (strings), then the input
columns with their own names and types (categories as plain strings; a feature whose
name is one of the columns before it, or an output's, is stored as ``input_<name>``),
then the outputs (``prediction``, ``proba_<class>``).

Feedback: ``request_id`` (string), ``row`` (int32), ``label``, ``time`` (timestamp[us,
UTC]). The label keeps its type when every label has one (all whole numbers: int64, all
numbers: double, all text: string, all booleans: bool), else every label is its text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mergeml.serve.columns import Columns, concat, length

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

MODEL_COLUMNS = {"model_name": "name", "model_version": "version", "stage": "stage"}
MODEL_COLUMNS["model_md5"] = "md5"
HEAD_COLUMNS = ("request_id", "row", "time", *MODEL_COLUMNS)
FEEDBACK_COLUMNS = ("request_id", "row", "label", "time")


@dataclass(frozen=True, slots=True)
class Scored:
    """One request's scored rows, as `PredictionLog.record` got them: its input and
    output columns (`mergeml.serve.columns`)."""

    request_id: str
    received: datetime
    model: Mapping[str, str]
    inputs: Columns
    outputs: Columns


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _micros(moment: datetime) -> int:
    delta = utc(moment) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def signature(item: Scored) -> tuple[Any, ...]:
    """What decides a table's columns: items with the same one can share a part file."""
    return (
        tuple((name, str(values.dtype)) for name, values in item.inputs.items()),
        tuple((name, str(values.dtype)) for name, values in item.outputs.items()),
    )


def _plain(table: pa.Table) -> pa.Table:
    """``table`` with dictionary (category) columns decoded, text as ``string`` (pandas 3
    gives ``large_string``) and no pandas metadata: the same columns, the same types."""
    import pyarrow as pa

    for i, field in enumerate(table.schema):
        kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
            kind = pa.string()
        if kind != field.type:
            table = table.set_column(i, field.name, table[i].cast(kind))
    return table.replace_schema_metadata(None)


def _columns_table(parts: Sequence[Columns]) -> pa.Table:
    """The rows of ``parts`` (of one signature) as one table: missing values (None, NaN)
    as nulls, as pyarrow reads a pandas frame."""
    import pyarrow as pa

    whole = concat(parts)
    arrays = [pa.array(values, from_pandas=True) for values in whole.values()]
    return _plain(pa.table(arrays, names=list(whole)))


def prediction_table(items: Sequence[Scored]) -> pa.Table:
    """The log rows of ``items`` (all of one `signature`)."""
    import numpy as np
    import pyarrow as pa

    counts = np.array([length(item.inputs) for item in items], dtype=np.int64)
    head: dict[str, pa.Array] = {
        "request_id": pa.array(np.repeat([i.request_id for i in items], counts), pa.string()),
        "row": pa.array(np.concatenate([np.arange(n, dtype=np.int32) for n in counts])),
        "time": pa.array(
            np.repeat(np.array([_micros(i.received) for i in items], dtype=np.int64), counts),
            pa.timestamp("us", tz="UTC"),
        ),
    }
    for column, key in MODEL_COLUMNS.items():
        values = [str(i.model.get(key) or "") for i in items]
        head[column] = pa.array(np.repeat(values, counts), pa.string())
    inputs = _columns_table([i.inputs for i in items])
    outputs = _columns_table([i.outputs for i in items])
    taken = set(head) | set(outputs.column_names)
    names = [f"input_{n}" if n in taken else n for n in inputs.column_names]
    columns = [*head.values(), *inputs.columns, *outputs.columns]
    return pa.table(columns, names=[*head, *names, *outputs.column_names])


def label_array(values: pd.Series) -> pa.Array:
    """The labels with their one type, else as text (see the module's docstring)."""
    import pyarrow as pa

    if values.dtype != object:
        return _plain(pa.table({"label": pa.Array.from_pandas(values)}))["label"].combine_chunks()
    items = values.tolist()
    try:
        return pa.array(items)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in items], pa.string())


def feedback_table(frame: pd.DataFrame, recorded: datetime) -> pa.Table:
    """Feedback rows (``request_id``, ``label``, optional ``row`` and ``time``) as a table;
    a missing ``row`` is 0, a missing ``time`` is ``recorded``."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    n = len(frame)
    rows = frame["row"] if "row" in frame else pd.Series(np.zeros(n, dtype=np.int32))
    if "time" in frame:
        given = frame["time"]
        times = pd.to_datetime(
            given, utc=True, format=None if given.dtype.kind == "M" else "ISO8601"
        )
        times = times.dt.as_unit("us")
        time = pa.Array.from_pandas(times).cast(pa.timestamp("us", tz="UTC"))
    else:
        stamp = np.full(n, _micros(recorded), dtype=np.int64)
        time = pa.array(stamp, pa.timestamp("us", tz="UTC"))
    columns = [
        pa.array(frame["request_id"].astype(str).tolist(), pa.string()),
        pa.array(np.asarray(rows, dtype=np.int32)),
        label_array(frame["label"].reset_index(drop=True)),
        time,
    ]
    return pa.table(columns, names=list(FEEDBACK_COLUMNS))
