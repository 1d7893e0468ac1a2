"""Markdown for the report's data, curves and confusion-matrix sections.

`balance` is shared with the model card. Mermaid charts hold only numbers and mergeml's own
titles; every string read from the repository is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping

from mergeml.markdown import MAX_CELL, esc, table
from mergeml.review.report.model import (
    Confusion,
    Curve,
    DataSection,
    DataSummary,
    Matrix,
    SourceChange,
)
from mergeml.review.report.read import finite

PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-")
CURVES_OMITTED = "_Curves omitted to keep this comment under the size limit._"
_PREPARED = {True: "**changed**", False: "unchanged", None: "unknown (no dvc.lock to compare)"}


def balance(counts: object) -> str:
    """Class counts with their shares, ``0: 98 (98.0%), 1: 2 (2.0%)``; — when not a mapping."""
    if not isinstance(counts, Mapping):
        return "—"
    total = sum(v for v in counts.values() if finite(v) is not None)
    parts = []
    for label, n in counts.items():
        share = f" ({n / total:.1%})" if total and finite(n) is not None else ""
        parts.append(f"{esc(label)}: {esc(n)}{share}")
    return ", ".join(parts) or "—"


def _code(path: str) -> str:
    """A path in a code span when it holds only plain characters, else escaped text."""
    return f"`{path}`" if set(path) <= PLAIN and len(path) <= MAX_CELL else esc(path)


def _source_state(source: SourceChange) -> str:
    if source.changed is None:
        return "new in head" if source.head else "not used in head"
    return "**changed**" if source.changed else "unchanged"


def md_source(source: SourceChange | None) -> list[str]:
    """One line: the source file and whether its md5 changed between base and head."""
    if not source:
        return []
    sides = [s for s in (source.base, source.head) if s]
    named = " → ".join(dict.fromkeys(_code(s.path) for s in sides))
    md5s = [f"{s.md5[:8]}…" for s in sides]
    shown = md5s[-1] if source.changed is False else " → ".join(md5s)
    return [f"Source file {named}: {_source_state(source)} (md5 {shown})"]


def _split_rows(base: DataSummary, head: DataSummary) -> list[list[str]]:
    rows = []
    for split in ("train", "test"):
        counts = [side.rows_of(split) for side in (base, head)]
        rows.append([f"{split} rows", *("—" if n is None else esc(n) for n in counts)])
        shares = [balance(side.classes_of(split)) for side in (base, head)]
        rows.append([f"{split} classes", *shares])
    return rows


def md_data(data: DataSection) -> list[str]:
    """Whether the prepared data changed, the source file, and rows and classes per split."""
    lines = ["", "### Data", ""]
    lines.append(f"Prepared data (`prepare` outputs in dvc.lock): {_PREPARED[data.changed]}")
    source = md_source(data.source)
    lines += ["", *source] if source else []
    nothing = DataSummary(None, None, None)
    base, head = data.base or nothing, data.head or nothing
    if base.empty and head.empty:
        return lines
    return [*lines, "", *table(["", "base", "head"], _split_rows(base, head))]


def _tick(value: float) -> str:
    return f"{value:g}"


def mermaid(curve: Curve) -> list[str]:
    """An xychart-beta block; only numbers and mergeml's own titles go inside it."""
    values = [v for s in curve.series for v in s.y]
    low, high = (0.0, 1.0) if max(curve.x) <= 1 else (min(values), max(values))
    low, high = min(low, *values), max(high, *values)
    x_ticks = ", ".join(f'"{_tick(x)}"' for x in curve.x)
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{curve.title}"',
        f'    x-axis "{curve.x_label}" [{x_ticks}]',
        f'    y-axis "{curve.y_label}" {_tick(low)} --> {_tick(high)}',
    ]
    lines += [f"    line [{', '.join(_tick(v) for v in s.y)}]" for s in curve.series]
    names = ", ".join(s.name for s in curve.series)
    return ["", *lines, "```", f"_Lines, in order: {names}._"]


def md_curves(curves: tuple[Curve, ...], shown: bool) -> list[str]:
    """Every curve as a Mermaid chart, or a note when ``shown`` is False (size limit)."""
    lines = ["", "### Curves"]
    if not shown:
        return [*lines, "", CURVES_OMITTED]
    if not curves:
        return [*lines, "", "No curve data (reports/plots) at either side."]
    return lines + [line for curve in curves for line in mermaid(curve)]


def _md_matrix(title: str, matrix: Matrix | None) -> list[str]:
    if matrix is None:
        return ["", f"**{title}:** not available"]
    if not matrix.labels:
        return ["", f"**{title}:** {matrix.classes} classes, too many to show"]
    labels = [esc(label, 40) for label in matrix.labels]
    rows = [
        [f"**{a}**", *(str(n) for n in row)] for a, row in zip(labels, matrix.matrix, strict=True)
    ]
    return ["", f"**{title}** (rows: actual, columns: predicted)", "", *table(["", *labels], rows)]


def md_confusion(confusion: Confusion) -> list[str]:
    """Both confusion matrices; nothing when neither side has one."""
    if confusion.base is None and confusion.head is None:
        return []
    lines = ["", "### Confusion matrices"]
    return lines + _md_matrix("base", confusion.base) + _md_matrix("head", confusion.head)
