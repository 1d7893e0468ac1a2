"""Quality gates: absolute thresholds and direction-aware non-regression against a base.

A NaN or infinite metric, a missing key, unparsable JSON or a missing file is a failed
gate with one clear reason, never a pass (`dvc metrics diff` exits 0 on all of these).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from mergeml.config.schema import GatesConfig, Tolerance
from mergeml.errors import MetricsFileError
from mergeml.evaluation.catalog import CLASSIFICATION_METRICS, METRIC_DIRECTION, REGRESSION_METRICS


@dataclass(frozen=True)
class GateResult:
    rule: str  # "min", "max" or "vs_base"
    metric: str
    threshold: str
    head: float | None
    base: float | None
    status: str  # "pass", "fail" or "skip"
    reason: str

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: a non-finite value is written as its text ("nan", "inf")."""
        data = asdict(self)
        for key in ("head", "base"):
            if isinstance(data[key], float) and not math.isfinite(data[key]):
                data[key] = str(data[key])
        return data


def parse_metrics(text: str | None, where: str) -> dict[str, Any]:
    """Top-level metrics of a metrics JSON file; MetricsFileError when unusable."""
    if text is None:
        raise MetricsFileError(f"{where}: metrics file not found")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetricsFileError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise MetricsFileError(f"{where}: expected a JSON object of metrics")
    return data


@dataclass(frozen=True)
class _Reading:
    """One metric as read: its value, and why it is unusable (None: usable)."""

    value: float | None
    problem: str | None = None
    missing: bool = False  # the metrics have no such key


def _value(metrics: dict[str, Any] | None, name: str) -> _Reading:
    """A usable finite number, or why it is not."""
    if metrics is None:
        return _Reading(None, "no metrics")
    if name not in metrics:
        return _Reading(None, f"'{name}' is missing", missing=True)
    value = metrics[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _Reading(None, f"'{name}' is not a number ({value!r})")
    if not math.isfinite(value):
        return _Reading(float(value), f"'{name}' is {value}")
    return _Reading(float(value))


def _other_task(name: str, head: dict[str, Any]) -> bool:
    """True when ``name`` belongs to the task that ``head`` was not evaluated for."""
    for own, other in (
        (CLASSIFICATION_METRICS, REGRESSION_METRICS),
        (REGRESSION_METRICS, CLASSIFICATION_METRICS),
    ):
        if name in other and any(m in head for m in own) and not any(m in head for m in other):
            return True
    return False


def _allowed_drop(tol: Tolerance, base: float) -> float:
    """Both tolerances must hold when both are given: the smaller allowed drop wins."""
    relative = None if tol.relative is None else tol.relative * abs(base)
    given = [t for t in (tol.absolute, relative) if t is not None]
    return min(given) if given else 0.0


def _describe(tol: Tolerance) -> str:
    parts = []
    if tol.absolute is not None:
        parts.append(f"drop <= {tol.absolute:g}")
    if tol.relative is not None:
        parts.append(f"drop <= {tol.relative:.1%}")
    return " and ".join(parts) or "no drop"


def check_gates(
    rules: GatesConfig,
    head: dict[str, Any],
    base: dict[str, Any] | None,
    *,
    no_base: str = "base has no metrics",
) -> list[GateResult]:
    """Apply every rule; ``base`` is None when there is nothing to compare with.

    ``no_base`` says why (no base ref given, or the base has no metrics: a first PR).
    """
    results: list[GateResult] = []
    for rule, table in (("min", rules.min), ("max", rules.max)):
        for name, threshold in sorted(table.items()):
            shown = f"{'>=' if rule == 'min' else '<='} {threshold:g}"
            if _other_task(name, head):
                results.append(GateResult(rule, name, shown, None, None, "skip", "other task"))
                continue
            reading = _value(head, name)
            value, problem = reading.value, reading.problem
            if problem or value is None:
                results.append(GateResult(rule, name, shown, value, None, "fail", problem or ""))
                continue
            ok = value >= threshold if rule == "min" else value <= threshold
            status, why = ("pass", "") if ok else ("fail", f"{value:g} is not {shown}")
            results.append(GateResult(rule, name, shown, value, None, status, why))
    for name, tol in sorted(rules.vs_base.items()):
        results.append(_vs_base(name, tol, head, base, no_base))
    return results


def _vs_base(
    name: str, tol: Tolerance, head: dict[str, Any], base: dict[str, Any] | None, no_base: str
) -> GateResult:
    direction = METRIC_DIRECTION.get(name, "higher")
    shown = f"{direction} is better, {_describe(tol)}"
    if _other_task(name, head):
        return GateResult("vs_base", name, shown, None, None, "skip", "other task")
    reading = _value(head, name)
    value, problem = reading.value, reading.problem
    if problem or value is None:
        return GateResult("vs_base", name, shown, value, None, "fail", problem or "")
    if base is None:
        return GateResult("vs_base", name, shown, value, None, "skip", no_base)
    base_reading = _value(base, name)
    before, base_problem = base_reading.value, base_reading.problem
    if base_reading.missing:
        return GateResult("vs_base", name, shown, value, None, "skip", f"base: {base_problem}")
    if base_problem or before is None:
        return GateResult("vs_base", name, shown, value, before, "fail", f"base: {base_problem}")
    drop = before - value if direction == "higher" else value - before
    allowed = _allowed_drop(tol, before)
    if drop > allowed:
        return GateResult(
            "vs_base", name, shown, value, before, "fail", f"worse by {drop:g} (> {allowed:g})"
        )
    return GateResult("vs_base", name, shown, value, before, "pass", "")


def format_table(results: list[GateResult]) -> str:
    """A plain-text table for terminals and CI logs."""
    rows = [("gate", "metric", "threshold", "head", "base", "result")]
    for r in results:
        rows.append(
            (
                r.rule,
                r.metric,
                r.threshold,
                "-" if r.head is None else f"{r.head:.6g}",
                "-" if r.base is None else f"{r.base:.6g}",
                r.status.upper() + (f" ({r.reason})" if r.reason else ""),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
