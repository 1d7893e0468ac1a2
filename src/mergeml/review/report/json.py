"""The report as strict JSON, for machines."""

from __future__ import annotations

import json

from mergeml.markdown import jsonable
from mergeml.review.report.model import Report


def render_json(report: Report) -> str:
    """The report as strict JSON (no NaN/Infinity literals), with a final newline."""
    document = jsonable(report.to_dict())
    return json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
