"""What a reference profile file must hold before a drift check trusts it: the first
problem found, as a phrase naming the key (None when the file is sound)."""

from __future__ import annotations

import math

FORMAT = 1
QUANTILES = 1001
KINDS = ("numeric", "categorical")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _numbers(value: object, length: int | None = None) -> bool:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        return False
    return all(_number(v) for v in value)


def _numeric_problem(summary: object, where: str) -> str | None:
    if not isinstance(summary, dict):
        return f"{where}.numeric is not an object"
    for key in ("min", "max", "mean", "std"):
        if not _number(summary.get(key)):
            return f"{where}.numeric.{key} is not a number"
    if not _numbers(summary.get("quantiles"), QUANTILES):
        return f"{where}.numeric.quantiles is not a list of {QUANTILES} numbers"
    edges = summary.get("psi_edges")
    fractions = summary.get("psi_fractions")
    if not _numbers(edges) or not _numbers(fractions) or len(fractions) != len(edges) + 1:  # type: ignore[arg-type]
        return f"{where}.numeric.psi_edges/psi_fractions do not match"
    if not _numbers(summary.get("sample")) or not summary.get("sample"):
        return f"{where}.numeric.sample is not a non-empty list of numbers"
    return None


def _column_problem(entry: object, where: str) -> str | None:
    if not isinstance(entry, dict):
        return f"{where} is not an object"
    if entry.get("kind") not in KINDS:
        return f"{where}.kind is not one of {', '.join(KINDS)}"
    if not _count(entry.get("count")) or not _number(entry.get("missing_rate")):
        return f"{where}.count/missing_rate are not numbers"
    if "numeric" in entry:
        problem = _numeric_problem(entry["numeric"], where)
        if problem:
            return problem
    elif entry["kind"] == "numeric" and entry["count"]:
        return f"{where}.numeric is missing"
    if entry["kind"] == "categorical":
        freq = entry.get("frequencies")
        if not isinstance(freq, dict) or not all(_count(v) for v in freq.values()):
            return f"{where}.frequencies is not an object of counts"
    return None


def problem_in(doc: object) -> str | None:
    """The first problem of a parsed profile, or None."""
    if not isinstance(doc, dict):
        return "not a JSON object"
    if doc.get("format") != FORMAT:
        return f"format is {doc.get('format')!r}, not {FORMAT}"
    if not _count(doc.get("rows")):
        return "rows is not a count"
    md5 = doc.get("model_md5")
    if md5 is not None and not isinstance(md5, str):
        return "model_md5 is not a string"
    columns = doc.get("columns")
    if not isinstance(columns, dict):
        return "columns is not an object"
    for name, entry in columns.items():
        problem = _column_problem(entry, f"columns.{name}")
        if problem:
            return problem
    score = doc.get("score")
    if score is not None:
        if not isinstance(score, dict) or not isinstance(score.get("name"), str):
            return "score.name is not a string"
        return _column_problem(score, "score")
    return None
