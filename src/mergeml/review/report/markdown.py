"""The report as a pull-request comment body: inert Markdown under GitHub's size limit.

The first line is :data:`MARKER`, by which the sticky comment is found. Every string read
from the repository is escaped; when the body is too long, curves go first, then parameter
rows, each with a visible note; as a last resort the text is cut with a note.
"""

from __future__ import annotations

from mergeml.markdown import esc, fit_rows, fmt, jsonable, table
from mergeml.project import PARAMS_FILE
from mergeml.review.report.markdown_data import md_confusion, md_curves, md_data
from mergeml.review.report.model import (
    Build,
    GatesSection,
    MetricsSection,
    ParamChange,
    ParamsSection,
    Report,
)

# The first line of every report: the sticky pull-request comment is found by it.
MARKER = "<!-- mergeml-report -->"
MAX_BODY = 65_536  # GitHub's limit on a comment body, in characters: the report fits in it.
TRUNCATED = "\n\n_… report truncated to stay under the comment size limit._\n"
MARKS = {
    "better": "✅ better",
    "worse": "❌ worse",
    "unchanged": "= unchanged",
    "added": "🆕 added",
    "removed": "🗑️ removed",
    "not comparable": "⚠️ not comparable",
    "no base": "– no base",
    "no head": "– no head",
}
GATE_ICONS = {"pass": "✅ pass", "fail": "❌ fail", "skip": "⏭️ skip"}
BUILD_ICONS = {"identical": "✅", "equivalent": "☑️", "differs": "❌"}


def _signed(value: float | None, pattern: str) -> str:
    return "—" if value is None else format(value, pattern)


def md_header(report: Report) -> list[str]:
    """The marker, the title, the gate verdict and the two sides compared."""
    v = report.verdict
    counts = f"{v.passed_gates} passed, {v.failed_gates} failed, {v.skipped_gates} skipped"
    status = "✅ **Gates passed**" if v.passed else "❌ **Gates failed**"
    why = f" ({'; '.join(esc(r) for r in v.reasons)})" if v.reasons else ""
    base, head = report.base, report.head
    head_text = "workspace" if head.sha is None else f"{esc(head.ref)} @ {head.short}"
    return [
        MARKER,
        f"## mergeml report: {esc(report.model)}",
        "",
        f"{status}: {counts}{why}",
        "",
        f"**Base:** {esc(base.ref)} @ {base.short} · **Head:** {head_text}",
    ]


def md_build(build: Build | None) -> list[str]:
    """What `mergeml verify-built` found: identical, equivalent within tolerance, or not."""
    if build is None:
        return []
    icon = BUILD_ICONS.get(build.outcome, "❔")
    lines = ["", "### Build (`mergeml verify-built`)", "", f"{icon} **{esc(build.headline)}**"]
    rows = [
        [esc(f.status), f"`{esc(f.path)}`", esc(f.detail)]
        for f in build.findings
        if f.status != "identical"
    ]
    if rows:
        lines += ["", *table(["", "output", "detail"], rows)]
    for path, md5 in build.promoted.items():
        where = f"`{esc(path)}` md5 `{esc(md5)}`"
        lines += ["", f"Promotion uses {where}, as the committed dvc.lock records."]
    return lines


def param_row(change: ParamChange) -> str:
    """One table row: the key (with its file when not params.yaml), old and new value."""
    key = change.key if change.file == PARAMS_FILE else f"{change.file}: {change.key}"
    old = "_(added)_" if change.status == "added" else esc(change.old)
    new = "_(removed)_" if change.status == "removed" else esc(change.new)
    return f"| {esc(key)} | {old} | {new} |"


def md_params(params: ParamsSection, rows: list[str], shown: int) -> list[str]:
    """The model-class swap, then the first ``shown`` of ``rows`` (a note for the rest)."""
    lines = ["", "### Parameters", ""]
    swap = params.model_class
    if swap:
        lines += [f"**model class changed:** {esc(swap.old)} → {esc(swap.new)}", ""]
    if not rows:
        return [*lines, "No other parameter changes." if swap else "No parameter changes."]
    lines += ["| parameter | base | head |", "|---|---|---|", *rows[:shown]]
    if shown < len(rows):
        hidden = len(rows) - shown
        lines += ["", f"_… {hidden} more parameter change(s) not shown (comment size limit)._"]
    return lines


def md_metrics(metrics: MetricsSection) -> list[str]:
    """One row per metric: base, head, change and a direction-aware mark."""
    lines = ["", f"### Metrics ({esc(metrics.file)})", ""]
    lines += [line for note in metrics.notes for line in (f"_{esc(note)}_", "")]
    if not metrics.rows:
        return [*lines, "No metrics to show."]
    rows = [
        [
            esc(r.name),
            fmt(r.base),
            fmt(r.head),
            _signed(r.abs, "+.4g"),
            _signed(r.rel, "+.2%"),
            MARKS[r.status],
        ]
        for r in metrics.rows
    ]
    return [*lines, *table(["metric", "base", "head", "change", "relative", ""], rows)]


def _gate_value(value: float | None) -> str:
    """As the JSON document spells it: a non-finite value is "nan" or "inf" here."""
    return fmt(jsonable(value))


def md_gates(gates: GatesSection) -> list[str]:
    """One row per gate rule, or why there are none."""
    lines = ["", "### Gates", ""]
    if gates.error:
        return [*lines, f"❌ gate rules are invalid: {esc(gates.error)}"]
    if not gates.results:
        return [*lines, "No gates configured (`evaluate.gates` in params)."]
    rows = [
        [
            r.rule,
            esc(r.metric),
            esc(r.threshold),
            _gate_value(r.head),
            _gate_value(r.base),
            GATE_ICONS.get(r.status, esc(r.status)) + (f" ({esc(r.reason)})" if r.reason else ""),
        ]
        for r in gates.results
    ]
    return lines + table(["gate", "metric", "threshold", "head", "base", "result"], rows)


def _assemble(report: Report, param_rows: list[str], shown: int, curves: bool) -> str:
    lines = [
        *md_header(report),
        *md_build(report.build),
        *md_params(report.params, param_rows, shown),
        *md_metrics(report.metrics),
        *md_gates(report.gates),
        *md_data(report.data),
        *md_curves(report.curves, curves),
        *md_confusion(report.confusion),
        "",
        "---",
        *(f"_{note}_" for note in report.notes),
    ]
    return "\n".join(lines) + "\n"


def _cut(text: str, limit: int) -> str:
    """``text`` cut at a line end so that it and the truncation note fit in ``limit``."""
    cut = text[: limit - len(TRUNCATED) - 1]
    return cut[: cut.rfind("\n") if "\n" in cut else len(cut)] + TRUNCATED


def render_markdown(report: Report, limit: int = MAX_BODY) -> str:
    """The PR comment body, always shorter than ``limit`` characters."""
    rows = [param_row(change) for change in report.params.changes]
    text = _assemble(report, rows, len(rows), curves=True)
    if len(text) < limit:
        return text
    text = _assemble(report, rows, len(rows), curves=False)
    if len(text) < limit:
        return text
    fixed = len(_assemble(report, rows, 0, curves=False))
    text = _assemble(report, rows, fit_rows(rows, limit - fixed - 200), curves=False)
    return text if len(text) < limit else _cut(text, limit)
