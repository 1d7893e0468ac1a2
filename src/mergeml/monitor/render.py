"""A drift report as a terminal table, a JSON document and Markdown."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from mergeml.files import dumps_json

if TYPE_CHECKING:
    from mergeml.monitor.drift_check import DriftReport
    from mergeml.monitor.performance import PerformanceReport
    from mergeml.monitor.stats import FeatureDrift

HEADER = (
    "column",
    "method",
    "statistic",
    "threshold",
    "p-value",
    "PSI",
    "drift",
    "missing",
    "out of range",
)


def _num(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def verdict(feature: FeatureDrift) -> str:
    if feature.drifted is None:
        return "not enough data"
    return "yes" if feature.drifted else "no"


def _row(feature: FeatureDrift) -> tuple[str, ...]:
    psi = "-" if feature.psi is None else f"{feature.psi:.3f} ({feature.psi_band or '-'})"
    odd = max(feature.out_of_range or 0.0, feature.unknown_categories or 0.0)
    return (
        feature.column,
        feature.method,
        _num(feature.statistic),
        _num(feature.threshold),
        _num(feature.p_value),
        psi,
        verdict(feature),
        _pct(feature.missing_cur),
        _pct(odd),
    )


def rows(report: DriftReport) -> list[tuple[str, ...]]:
    found = [_row(f) for f in report.result.features]
    if report.result.score is not None:
        found.append(_row(report.result.score))
    return found


def summary(report: DriftReport) -> str:
    """``dataset drift: 4 of 10 features drifted (share 0.40 < 0.50): no``."""
    result = report.result
    judged = [f for f in result.features if f.drifted is not None]
    drifted = sum(bool(f.drifted) for f in judged)
    share = result.drifted_share
    limit = report.share_limit
    relation = ">=" if result.dataset_drift else "<"
    line = (
        f"dataset drift: {drifted} of {len(judged)} features drifted (share {share:.2f} "
        f"{relation} {limit:.2f}): {'yes' if result.dataset_drift else 'no'}"
    )
    if result.score is not None:
        line += f"; prediction drift: {verdict(result.score)}"
    return line


def table(report: DriftReport) -> str:
    """The plain-text table, one row per feature (and the score), then the summary line."""
    body = [HEADER, *rows(report)]
    widths = [max(len(r[i]) for r in body) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    return "\n".join([*lines, summary(report)])


def _feature_doc(feature: FeatureDrift) -> dict[str, Any]:
    doc = asdict(feature)
    doc["verdict"] = verdict(feature)
    return doc


def document(report: DriftReport) -> dict[str, Any]:
    """The JSON document: model, window, every feature, the score and the verdicts."""
    result = report.result
    return {
        "model": report.target.describe(),
        "current": report.source,
        "rows": result.n_current,
        "features": [_feature_doc(f) for f in result.features],
        "score": None if result.score is None else _feature_doc(result.score),
        "drifted_share": result.drifted_share,
        "dataset_drift": bool(result.dataset_drift),
        "prediction_drift": report.score_drifted,
        "correction": result.correction,
        "drift": report.drifted,
    }


def finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinity as None (JSON null)."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def as_json(report: DriftReport) -> str:
    return dumps_json(finite(document(report)))


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def markdown(report: DriftReport) -> str:
    """A Markdown report for a pull request or an issue."""
    lines = [
        f"## Data drift: {_md_cell(report.target.label)}",
        "",
        f"Current data: {_md_cell(report.source)} ({report.result.n_current:,} rows).",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows(report)]
    lines += ["", f"**{_md_cell(summary(report))}**", ""]
    return "\n".join(lines)


# --- performance ---------------------------------------------------------------------------

PERF_HEADER = ("metric", "value", "interval", "evaluated")
GATES_NOTE = (
    "(head: the interval's upper bound for min gates, its lower bound for max gates, its "
    "bound on the better side for vs_base; base: the evaluated metric)"
)


def _perf_rows(report: PerformanceReport) -> list[tuple[str, ...]]:
    share = f"{report.confidence:.0%}"
    return [
        (
            m.name,
            _num(m.value),
            "-" if m.low is None else f"[{_num(m.low)}, {_num(m.high)}] ({share})",
            _num(m.evaluated),
        )
        for m in report.metrics
    ]


def performance_summary(report: PerformanceReport) -> str:
    """``performance: degraded (roc_auc 0.71 < min 0.85)``, ``not degraded`` or not enough."""
    if not report.enough:
        return (
            f"performance: not enough labels ({report.labelled:,} labelled of "
            f"{report.predictions:,} predictions, {report.min_labels:,} needed): not judged"
        )
    failed = [f"{g.metric} {g.reason}" for g in report.gates if g.failed]
    if failed:
        return f"performance: degraded ({'; '.join(failed)})"
    return f"performance: not degraded ({report.labelled:,} labelled predictions)"


def performance_table(report: PerformanceReport) -> str:
    from mergeml.review.gates import format_table

    lines = []
    if report.metrics:
        body = [PERF_HEADER, *_perf_rows(report)]
        widths = [max(len(r[i]) for r in body) for i in range(len(PERF_HEADER))]
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body
        ]
    if report.gates:
        lines += ["", format_table(list(report.gates)), GATES_NOTE]
    return "\n".join([*lines, performance_summary(report)]).lstrip("\n")


def performance_document(report: PerformanceReport) -> dict[str, Any]:
    return {
        "model": report.target.describe(),
        "current": report.source,
        "predictions": report.predictions,
        "labelled": report.labelled,
        "min_labels": report.min_labels,
        "enough_labels": report.enough,
        "confidence": report.confidence,
        "metrics": [asdict(m) for m in report.metrics],
        "gates": [g.as_dict() for g in report.gates],
        "degraded": report.degraded,
    }


def performance_json(report: PerformanceReport) -> str:
    return dumps_json(finite(performance_document(report)))


def worse_than_evaluated(report: PerformanceReport) -> list[str]:
    """``precision 0.213 (0.605 at evaluation)`` for each metric on the worse side of what
    evaluation recorded, the largest relative drop first (whether or not a gate fails)."""
    from mergeml.evaluation.catalog import METRIC_DIRECTION

    found = []
    for m in report.metrics:
        if m.evaluated is None or m.value == m.evaluated:
            continue
        lower = METRIC_DIRECTION.get(m.name) == "lower"
        if (m.value > m.evaluated) if lower else (m.value < m.evaluated):
            change = abs(m.value - m.evaluated) / max(abs(m.evaluated), 1e-12)
            found.append((change, f"{m.name} {m.value:.4g} ({m.evaluated:.4g} at evaluation)"))
    return [text for _, text in sorted(found, key=lambda f: -f[0])]


def performance_markdown(report: PerformanceReport) -> str:
    lines = [
        f"## Model performance: {_md_cell(report.target.label)}",
        "",
        f"Labelled predictions: {report.labelled:,} of {report.predictions:,} in "
        f"{_md_cell(report.source)}.",
        "",
    ]
    if report.metrics:
        lines += ["| " + " | ".join(PERF_HEADER) + " |", "|" + "---|" * len(PERF_HEADER)]
        lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in _perf_rows(report)]
        lines.append("")
    worse = worse_than_evaluated(report)
    if worse:
        lines += [f"Worse than at evaluation: {_md_cell(', '.join(worse))}.", ""]
    for gate in report.gates:
        lines.append(
            f"- {gate.rule} {_md_cell(gate.metric)} {_md_cell(gate.threshold)}: "
            f"{gate.status}{' (' + _md_cell(gate.reason) + ')' if gate.reason else ''}"
        )
    lines += ["", f"**{_md_cell(performance_summary(report))}**", ""]
    return "\n".join(lines)
