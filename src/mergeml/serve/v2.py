"""Open Inference Protocol V2 (KServe, Seldon MLServer): the request and response
envelopes, and the pandas codec: each input is one column of the frame.

An input ``{"name": "age", "shape": [3], "datatype": "INT64", "data": [31, 45, 27]}`` is
column ``age`` of a three-row frame (a shape ``[3, 1]`` and nested ``[[31], [45], [27]]``
data are read the same way). Outputs are ``prediction`` and, for a classifier, one
``proba_<class>`` per class: the columns `mergeml predict` writes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from mergeml.errors import RequestError
from mergeml.serve.columns import Columns

if TYPE_CHECKING:
    import numpy as np

    from mergeml.serve.service import Scores

INTS = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
FLOATS = ("FP16", "FP32", "FP64")
DATATYPES = ("BOOL", *INTS, *FLOATS, "BYTES")
KIND_DATATYPE = {
    "int": "INT64",
    "float": "FP64",
    "bool": "BOOL",
    "category": "BYTES",
    "str": "BYTES",
}


class InferInput(BaseModel):
    """One input tensor: here, one column."""

    name: str
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferRequest(BaseModel):
    """``POST /v2/models/{name}/infer``."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    inputs: list[InferInput] = Field(min_length=1)
    parameters: dict[str, Any] | None = None
    outputs: list[dict[str, Any]] | None = None


def _flat(data: list[Any]) -> list[Any]:
    """Row-major flattening of nested lists."""
    out: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def _rows(inp: InferInput, values: list[Any]) -> int:
    """The input's row count, from a shape that holds one value per row."""
    shape = inp.shape
    if not shape or any(d < 0 for d in shape) or any(d != 1 for d in shape[1:]):
        raise RequestError(
            f"input '{inp.name}': shape {shape} is not [rows] or [rows, 1] (one column per input)",
            status=400,
        )
    if len(values) != shape[0]:
        raise RequestError(
            f"input '{inp.name}': shape {shape} but {len(values)} values in data", status=400
        )
    return shape[0]


def _bad_value(inp: InferInput, values: list[Any], ok: Any, what: str) -> None:
    """RequestError naming the first value that is not ``ok`` (nulls are left to the
    schema check)."""
    for row, value in enumerate(values):
        if value is not None and not ok(value):
            raise RequestError(
                f"input '{inp.name}': {value!r} at row {row} is not {what} ({inp.datatype})",
                problems=({"column": inp.name, "kind": "dtype", "count": 1, "first_row": row},),
            )


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def column(inp: InferInput) -> tuple[Any, int]:
    """The input as a column (a numpy array, text as an object array; a pandas boolean
    array for booleans with nulls), and its row count."""
    import numpy as np
    import pandas as pd

    datatype = inp.datatype.upper()
    if datatype not in DATATYPES:
        raise RequestError(
            f"input '{inp.name}': datatype {inp.datatype!r} is not one of {', '.join(DATATYPES)}",
            status=400,
        )
    values = _flat(inp.data)
    rows = _rows(inp, values)
    has_null = any(v is None for v in values)
    if datatype == "BOOL":
        _bad_value(inp, values, lambda v: isinstance(v, bool), "a boolean")
        if has_null:
            return pd.array(values, dtype="boolean"), rows
        return np.array(values, dtype="bool"), rows
    if datatype in INTS:
        _bad_value(inp, values, _is_int, "an integer")
        if has_null:  # NaN for the schema check to name
            return np.array([math.nan if v is None else v for v in values], "float64"), rows
        try:
            return np.array(values, dtype="int64"), rows
        except OverflowError as exc:
            raise RequestError(f"input '{inp.name}': an integer outside the int64 range") from exc
    if datatype in FLOATS:
        _bad_value(inp, values, _is_number, "a number")
        if has_null:
            values = [math.nan if v is None else v for v in values]
        return np.array(values, dtype="float64"), rows
    _bad_value(inp, values, lambda v: isinstance(v, str), "a string")
    text = np.empty(rows, dtype=object)  # filled, not converted: a list stays one value each
    text[:] = values
    return text, rows


def columns_of(request: InferRequest) -> Columns:
    """The request's inputs as columns (one per input), all of one length."""
    columns: Columns = {}
    counts: set[int] = set()
    for inp in request.inputs:
        if inp.name in columns:
            raise RequestError(f"input '{inp.name}' is given twice", status=400)
        columns[inp.name], rows = column(inp)
        counts.add(rows)
    if len(counts) > 1:
        raise RequestError(
            f"inputs have different row counts ({', '.join(map(str, sorted(counts)))})",
            status=400,
        )
    return columns


ARRAY_DATATYPE = {"b": "BOOL", "i": "INT64", "u": "INT64", "f": "FP64"}


def _datatype(array: np.ndarray) -> str:
    return ARRAY_DATATYPE.get(array.dtype.kind, "BYTES")


def render(outputs: Scores, identity: dict[str, str], request_id: str) -> dict[str, Any]:
    """The V2 response: one output per output column."""
    tensors = [
        {
            "name": name,
            "shape": [len(array)],
            "datatype": _datatype(array),
            "data": array.tolist(),
        }
        for name, array in zip(outputs.names, outputs.arrays, strict=True)
    ]
    return {
        "model_name": identity["name"],
        "model_version": identity["version"] or None,
        "id": request_id,
        "parameters": {"content_type": "pd"},
        "outputs": tensors,
    }


def metadata(
    identity: dict[str, str], columns: list[dict[str, Any]], classes: list[Any] | None
) -> dict[str, Any]:
    """``GET /v2/models/{name}``: the inputs from the input schema, and the outputs."""
    inputs = [
        {"name": c["name"], "datatype": KIND_DATATYPE[c["dtype"]], "shape": [-1]} for c in columns
    ]
    if classes is None:
        outputs = [{"name": "prediction", "datatype": "FP64", "shape": [-1]}]
    else:
        kind = {bool: "BOOL", int: "INT64", float: "FP64"}.get(type(classes[0]), "BYTES")
        outputs = [{"name": "prediction", "datatype": kind, "shape": [-1]}]
        outputs += [{"name": f"proba_{c}", "datatype": "FP64", "shape": [-1]} for c in classes]
    return {
        "name": identity["name"],
        "versions": [identity["version"]] if identity["version"] else [],
        "platform": "sklearn",
        "inputs": inputs,
        "outputs": outputs,
        "parameters": {"content_type": "pd", **{k: v for k, v in identity.items() if v}},
    }
