"""Parameters, metrics and gates of base and head, compared."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from mergeml.errors import MergemlError
from mergeml.evaluation.catalog import METRIC_DIRECTION
from mergeml.project import PARAMS_FILE, Side
from mergeml.review.gates import check_gates
from mergeml.review.report.model import (
    GatesSection,
    GateVerdict,
    MetricRow,
    MetricsSection,
    MetricStatus,
    ModelClass,
    ParamChange,
    ParamsSection,
)
from mergeml.review.report.read import RawMetrics, flat_params, gate_rules, numeric_metrics

# --- parameters ---------------------------------------------------------------------------------


def diff_param_values(
    old: Mapping[str, Any], new: Mapping[str, Any], file: str
) -> list[ParamChange]:
    """One entry per added, removed or changed dotted key, sorted by key."""
    changes = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            changes.append(ParamChange(file, key, "removed", old=old[key]))
        elif key not in old:
            changes.append(ParamChange(file, key, "added", new=new[key]))
        elif old[key] != new[key]:
            changes.append(ParamChange(file, key, "changed", old=old[key], new=new[key]))
    return changes


def _is_class_swap(change: ParamChange) -> bool:
    is_target = change.file == PARAMS_FILE and change.key == "model._target_"
    return is_target and change.status == "changed"


def params_section(base: Side, head: Side, files: tuple[str, ...]) -> ParamsSection:
    """Changed parameters; a changed ``model._target_`` is pulled out as ``model_class``."""
    changes: list[ParamChange] = []
    for name in files:
        changes += diff_param_values(
            flat_params(base.read(name), f"{name} at {base.short}"),
            flat_params(head.read(name), f"{name} at {head.short}"),
            name,
        )
    swap = next((c for c in changes if _is_class_swap(c)), None)
    if swap is None:
        return ParamsSection(files, None, tuple(changes))
    rest = tuple(c for c in changes if c is not swap)
    return ParamsSection(files, ModelClass(swap.old, swap.new), rest)


# --- metrics ------------------------------------------------------------------------------------


def _change(
    base: float | None, head: float | None, direction: str, *, base_ok: bool, head_ok: bool
) -> tuple[MetricStatus, float | None]:
    """The status of one metric and its absolute change (None when not comparable)."""
    if base is None:
        return ("added" if base_ok else "no base"), None
    if head is None:
        return ("removed" if head_ok else "no head"), None
    if not (math.isfinite(base) and math.isfinite(head)):
        return "not comparable", None
    delta = head - base
    if delta == 0:
        return "unchanged", delta
    better = (delta > 0) == (direction == "higher")
    return ("better" if better else "worse"), delta


def compare_metric(
    name: str, base: float | None, head: float | None, *, base_ok: bool, head_ok: bool
) -> MetricRow:
    """One metrics row: values, absolute and relative change, direction-aware status."""
    direction = METRIC_DIRECTION.get(name, "higher")
    status, delta = _change(base, head, direction, base_ok=base_ok, head_ok=head_ok)
    rel = delta / abs(base) if delta is not None and base else None
    return MetricRow(name, base, head, direction, delta, rel, status)


def metrics_section(path: str, base: Side, head: Side, raw: RawMetrics) -> MetricsSection:
    """Every top-level numeric metric of either side, head's order first."""
    before, after = numeric_metrics(raw[0]), numeric_metrics(raw[1])
    base_ok, head_ok = raw[0] is not None, raw[1] is not None
    names = list(after) + [name for name in before if name not in after]
    rows = tuple(
        compare_metric(n, before.get(n), after.get(n), base_ok=base_ok, head_ok=head_ok)
        for n in names
    )
    sides = ((base, base_ok), (head, head_ok))
    notes = tuple(f"metrics not available at {side.ref}" for side, ok in sides if not ok)
    return MetricsSection(path, base_ok, head_ok, notes, rows)


# --- gates --------------------------------------------------------------------------------------


def gates_section(head: Side, base: Side, raw: RawMetrics) -> GatesSection:
    """Gate results from head's ``evaluate.gates``; a config problem is reported, not raised."""
    try:
        rules = gate_rules(head)
    except MergemlError as exc:
        return GatesSection(str(exc), ())
    no_base = f"metrics not available at {base.ref}"
    return GatesSection(None, tuple(check_gates(rules, raw[1] or {}, raw[0], no_base=no_base)))


def verdict(gates: GatesSection, head_available: bool) -> GateVerdict:
    """Pass only when head has metrics, the rules parse and no gate fails."""
    counts = Counter(r.status for r in gates.results)
    reasons = [] if head_available else ["metrics not available at head"]
    if gates.error:
        reasons.append("gate rules are invalid")
    passed = not reasons and counts["fail"] == 0
    return GateVerdict(passed, counts["pass"], counts["fail"], counts["skip"], tuple(reasons))
