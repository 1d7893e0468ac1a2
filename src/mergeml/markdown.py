"""Markdown for people, safe whatever it holds: the report and the model card share it.

Every value read from a repository is made inert text (HTML-escaped; no pipes, backticks,
links or mentions) before it reaches a table, and long documents are fitted to a size.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from typing import Any

MAX_CELL = 200  # characters of one user-controlled value shown in the Markdown.

_INERT = str.maketrans(
    {
        "|": "&#124;",
        "`": "&#96;",
        "@": "&#64;",  # no @mentions
        "[": "&#91;",
        "]": "&#93;",
        "\\": "&#92;",
        "\n": " ",
        "\r": " ",
    }
)


def jsonable(obj: Any) -> Any:
    """Plain JSON types only: non-finite floats become "nan"/"inf"/"-inf", others text."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if obj is None or isinstance(obj, str | int):
        return obj
    return str(obj)


def number(value: object) -> float | None:
    """``value`` as a float when it is a JSON number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def show(value: object) -> str:
    """A parameter value as YAML would spell it (numbers, true/false, null, JSON for lists)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(jsonable(value), sort_keys=True)


def esc(value: object, limit: int = MAX_CELL) -> str:
    """``value`` as inert Markdown text: HTML-escaped, no pipes, backticks, links or mentions."""
    text = value if isinstance(value, str) else show(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return html.escape(text, quote=True).translate(_INERT)


def fmt(value: object) -> str:
    """A metric value: 6 significant digits; NaN and infinities spelled out; absent as —."""
    found = number(value)
    if found is None:
        return "—" if value is None else esc(value)
    if math.isnan(found):
        return "NaN"
    if math.isinf(found):
        return "inf" if found > 0 else "-inf"
    return f"{found:.6g}"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table (cells already escaped)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def fit_rows(rows: list[str], budget: int) -> int:
    """How many of ``rows`` (one line each) fit in ``budget`` characters."""
    used = 0
    for count, row in enumerate(rows):
        used += len(row) + 1
        if used > budget:
            return count
    return len(rows)
