"""MLflow's scoring protocol, ``POST /invocations``: a JSON object with exactly one of
``dataframe_split`` (``{"columns": [...], "data": [[...], ...]}``), ``dataframe_records``
(``[{"col": value, ...}, ...]``), ``instances`` or ``inputs`` (either records or
``{"col": [values...]}``), or a CSV body with a header row (``Content-Type: text/csv``).

The answer is ``{"predictions": [...]}``: for a regressor one number per row; for a
classifier one object per row, ``{"prediction": class, "proba_<class>": p, ...}`` (what
MLflow returns for a model whose output is a table, and the same columns as V2's outputs).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mergeml.errors import RequestError, one_line

if TYPE_CHECKING:
    import pandas as pd

    from mergeml.serve.service import Scores

KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class Split(BaseModel):
    """pandas' ``orient="split"``."""

    model_config = ConfigDict(extra="ignore")

    columns: list[str]
    data: list[list[Any]]
    index: list[Any] | None = None


class Envelope(BaseModel):
    """The JSON body: exactly one of the four keys (checked after parsing)."""

    model_config = ConfigDict(extra="forbid")

    dataframe_split: Split | None = None
    dataframe_records: list[dict[str, Any]] | None = None
    instances: list[dict[str, Any]] | dict[str, list[Any]] | None = None
    inputs: list[dict[str, Any]] | dict[str, list[Any]] | None = None
    params: dict[str, Any] | None = Field(default=None, description="accepted, ignored")


def _columns_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    import pandas as pd

    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise RequestError(
            f"columns have different lengths ({', '.join(map(str, sorted(lengths)))})", status=400
        )
    return pd.DataFrame(columns)


def _split_frame(split: Split) -> pd.DataFrame:
    import pandas as pd

    width = len(split.columns)
    for row, values in enumerate(split.data):
        if len(values) != width:
            raise RequestError(
                f"dataframe_split: row {row} has {len(values)} values for {width} columns",
                status=400,
            )
    if len(set(split.columns)) != width:
        raise RequestError("dataframe_split: a column name is given twice", status=400)
    return pd.DataFrame(split.data, columns=split.columns)


def frame_from_json(body: bytes) -> pd.DataFrame:
    """The frame of a JSON body (RequestError for a bad one)."""
    import pandas as pd

    try:
        envelope = Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise RequestError(validation_message(exc), status=_status(exc)) from exc
    given = [k for k in KEYS if getattr(envelope, k) is not None]
    if len(given) != 1:
        raise RequestError(
            f"give exactly one of {', '.join(KEYS)} (got {', '.join(given) or 'none'})",
            status=400,
        )
    value = getattr(envelope, given[0])
    if isinstance(value, Split):
        return _split_frame(value)
    if isinstance(value, dict):
        return _columns_frame(value)
    return pd.DataFrame.from_records(value) if value else pd.DataFrame()


def frame_from_csv(body: bytes, columns: list[dict[str, Any]]) -> pd.DataFrame:
    """The frame of a CSV body with a header row; text columns stay text."""
    import pandas as pd

    text = {c["name"]: "object" for c in columns if c["dtype"] in ("str", "category")}
    try:
        return pd.read_csv(io.BytesIO(body), dtype=text)
    except Exception as exc:  # pandas' parser errors, decoding errors
        raise RequestError(f"unreadable CSV: {one_line(str(exc))[:200]}", status=400) from exc


def _status(exc: ValidationError) -> int:
    """400 for a body that is not JSON, 422 for JSON of the wrong shape."""
    return 400 if any(e["type"] == "json_invalid" for e in exc.errors()) else 422


def validation_message(exc: ValidationError) -> str:
    """One line naming the first field pydantic refused."""
    return errors_line(exc.errors())


def errors_line(errors: Sequence[Mapping[str, Any]]) -> str:
    """One line naming the first of pydantic's (or FastAPI's) errors, and how many more."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    more = f"; and {len(errors) - 1} more" if len(errors) > 1 else ""
    return one_line(f"{where}: {first.get('msg', '')}")[:300] + more


def render(outputs: Scores, classifier: bool) -> dict[str, Any]:
    """``{"predictions": [...]}``."""
    columns = [array.tolist() for array in outputs.arrays]
    if not classifier:
        return {"predictions": columns[0]}
    names = outputs.names
    return {
        "predictions": [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    }
