"""The pull-request report: what changed between a base commit and a head (commit or workspace).

`build_report` gathers parameters, metrics, gates, data, curves and confusion matrices into one
plain dict. `render_markdown` turns it into a PR comment body: every string read from the
repository is escaped into inert text and the body stays under GitHub's comment limit.
`render_json` gives the same content as strict JSON.

Nothing here raises on a missing or malformed report file: that side is shown as not available.
Only an unknown git ref raises (`ScmError`, from the git adapter).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from statistics import fmean
from typing import Any

import yaml

from mergeml.config.compose import flatten
from mergeml.config.schema import GatesConfig, parse_section
from mergeml.errors import MergemlError
from mergeml.evaluation.catalog import METRIC_DIRECTION
from mergeml.markdown import MAX_CELL, esc, fit_rows, fmt, jsonable, number, table
from mergeml.project import (
    DVC_YAML,
    LOCK_FILE,
    PARAMS_FILE,
    Side,
    git_side,
    layout_from_text,
    safe_path,
    workspace_side,
)
from mergeml.review.gates import check_gates, parse_metrics
from mergeml.scm import Git

__all__ = ["MARKER", "MAX_BODY", "build_report", "render_json", "render_markdown"]

# The first line of every report: the sticky pull-request comment is found by it.
MARKER = "<!-- mergeml-report -->"
MAX_BODY = 65_536  # GitHub's limit on a comment body, in characters: the report fits in it.
MAX_CLASSES = 20
GRID = tuple(i / 20 for i in range(21))
DATA_FILE = "reports/data.json"
ROC_FILE = "reports/plots/roc.json"
PR_FILE = "reports/plots/precision_recall.json"
PREDICTIONS_FILE = "reports/plots/predictions.json"
CONFUSION_FILE = "reports/plots/confusion.csv"
ARTIFACT_NOTE = (
    "The full `dvc plots diff` HTML (every plot, interactive) is attached to this CI run "
    "as an artifact."
)
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


# --- reading one side ---------------------------------------------------------------------------


def _yaml(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None


def _finite(value: object) -> float | None:
    found = number(value)
    return found if found is not None and math.isfinite(found) else None


# --- project layout from dvc.yaml ---------------------------------------------------------------


# --- parameters ---------------------------------------------------------------------------------


def flat_params(text: str | None) -> dict[str, Any]:
    doc = _yaml(text)
    return dict(flatten(doc)) if isinstance(doc, Mapping) and doc else {}


def diff_param_values(
    old: Mapping[str, Any], new: Mapping[str, Any], file: str
) -> list[dict[str, Any]]:
    """One entry per added, removed or changed dotted key, sorted by key."""
    changes = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            changes.append({"file": file, "key": key, "status": "removed", "old": old[key]})
        elif key not in old:
            changes.append({"file": file, "key": key, "status": "added", "new": new[key]})
        elif old[key] != new[key]:
            entry = {"file": file, "key": key, "status": "changed"}
            changes.append({**entry, "old": old[key], "new": new[key]})
    return changes


def _is_model_class(change: Mapping[str, Any]) -> bool:
    return change["file"] == PARAMS_FILE and change["key"] == "model._target_"


def params_section(base: Side, head: Side, files: tuple[str, ...]) -> dict[str, Any]:
    """Changed parameters; a changed ``model._target_`` is pulled out as ``model_class``."""
    changes: list[dict[str, Any]] = []
    for name in files:
        old, new = flat_params(base.read(name)), flat_params(head.read(name))
        changes += diff_param_values(old, new, name)
    swap = [c for c in changes if _is_model_class(c) and c["status"] == "changed"]
    model_class = {"old": swap[0]["old"], "new": swap[0]["new"]} if swap else None
    if swap:
        changes = [c for c in changes if c is not swap[0]]
    return {"files": list(files), "model_class": model_class, "changes": changes}


# --- metrics and gates --------------------------------------------------------------------------


def read_metrics(side: Side, path: str) -> dict[str, Any] | None:
    """The metrics object of ``path`` at ``side``, or None when missing or unusable."""
    try:
        return parse_metrics(side.read(path), f"{path} at {side.short}")
    except MergemlError:
        return None


def numeric_metrics(metrics: Mapping[str, Any] | None) -> dict[str, float]:
    """Top-level numeric metrics (nested objects such as ``support`` are left out)."""
    found = {str(k): number(v) for k, v in (metrics or {}).items()}
    return {k: v for k, v in found.items() if v is not None}


def compare_metric(
    name: str, base: float | None, head: float | None, *, base_ok: bool, head_ok: bool
) -> dict[str, Any]:
    """One metrics row: values, absolute and relative change, direction-aware status."""
    direction = METRIC_DIRECTION.get(name, "higher")
    row: dict[str, Any] = {"name": name, "base": base, "head": head, "direction": direction}
    row.update({"abs": None, "rel": None})
    if base is None:
        return {**row, "status": "added" if base_ok else "no base"}
    if head is None:
        return {**row, "status": "removed" if head_ok else "no head"}
    if not (math.isfinite(base) and math.isfinite(head)):
        return {**row, "status": "not comparable"}
    delta = head - base
    row.update({"abs": delta, "rel": delta / abs(base) if base else None})
    if delta == 0:
        return {**row, "status": "unchanged"}
    better = (delta > 0) == (direction == "higher")
    return {**row, "status": "better" if better else "worse"}


def metrics_section(
    path: str, base: Side, head: Side, raw: tuple[dict[str, Any] | None, dict[str, Any] | None]
) -> dict[str, Any]:
    """Every top-level numeric metric of either side, head's order first."""
    before, after = numeric_metrics(raw[0]), numeric_metrics(raw[1])
    base_ok, head_ok = raw[0] is not None, raw[1] is not None
    names = list(after) + [name for name in before if name not in after]
    rows = [
        compare_metric(n, before.get(n), after.get(n), base_ok=base_ok, head_ok=head_ok)
        for n in names
    ]
    sides = ((base, base_ok), (head, head_ok))
    return {
        "file": path,
        "base_available": base_ok,
        "head_available": head_ok,
        "notes": [f"metrics not available at {side.ref}" for side, ok in sides if not ok],
        "rows": rows,
    }


def gate_rules(head: Side) -> GatesConfig:
    doc = _yaml(head.read(PARAMS_FILE))
    evaluate = doc.get("evaluate") if isinstance(doc, Mapping) else None
    rules = evaluate.get("gates") if isinstance(evaluate, Mapping) else None
    where = f"{PARAMS_FILE} at {head.short}"
    return parse_section(GatesConfig, rules or {}, where=where, prefix="evaluate.gates")


def gates_section(
    head: Side, base: Side, raw: tuple[dict[str, Any] | None, dict[str, Any] | None]
) -> dict[str, Any]:
    """Gate results from head's ``evaluate.gates``; a config problem is reported, not raised."""
    try:
        rules = gate_rules(head)
    except MergemlError as exc:
        return {"error": str(exc), "results": []}
    no_base = f"metrics not available at {base.ref}"
    results = check_gates(rules, raw[1] or {}, raw[0], no_base=no_base)
    return {"error": None, "results": [r.as_dict() for r in results]}


def verdict(gates: Mapping[str, Any], head_available: bool) -> dict[str, Any]:
    """Pass only when head has metrics, the rules parse and no gate fails."""
    counts = Counter(r["status"] for r in gates["results"])
    reasons = [] if head_available else ["metrics not available at head"]
    if gates.get("error"):
        reasons.append("gate rules are invalid")
    passed = not reasons and counts["fail"] == 0
    return {
        "passed": passed,
        "passed_gates": counts["pass"],
        "failed_gates": counts["fail"],
        "skipped_gates": counts["skip"],
        "reasons": reasons,
    }


# --- data ---------------------------------------------------------------------------------------


def prepare_outs(side: Side) -> dict[str, str] | None:
    """``{path: md5}`` of the ``prepare`` stage outputs in dvc.lock, or None."""
    text = side.read(LOCK_FILE)
    try:
        lock = yaml.load(text, Loader=yaml.BaseLoader) if text is not None else None
    except yaml.YAMLError:
        return None
    stages = lock.get("stages") if isinstance(lock, Mapping) else None
    stage = stages.get("prepare") if isinstance(stages, Mapping) else None
    outs = stage.get("outs") if isinstance(stage, Mapping) else None
    if not isinstance(outs, list):
        return None
    return {
        str(o["path"]): str(o.get("md5")) for o in outs if isinstance(o, Mapping) and "path" in o
    }


HEX = frozenset("0123456789abcdef")
PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-")


def source_file(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """The recorded data source file ``{path, md5, size}`` when well formed, else None."""
    entry = doc.get("source_file")
    if not isinstance(entry, Mapping):
        return None
    path, md5, size = entry.get("path"), entry.get("md5"), entry.get("size")
    if not isinstance(path, str) or safe_path(path) is None:
        return None
    if not isinstance(md5, str) or len(md5) != 32 or set(md5) - HEX:
        return None
    return {"path": path, "md5": md5, "size": size if isinstance(size, int) else None}


def data_summary(side: Side) -> dict[str, Any] | None:
    """Train/test rows, class balance and source file from reports/data.json, or None."""
    doc = _json(side.read(DATA_FILE))
    if not isinstance(doc, Mapping):
        return None
    out: dict[str, Any] = {}
    for key in ("rows", "class_balance"):
        value = doc.get(key)
        if isinstance(value, Mapping):
            out[key] = {split: value[split] for split in ("train", "test") if split in value}
    source = source_file(doc)
    if source is not None:
        out["source_file"] = source
    return out


def source_change(
    base: Mapping[str, Any] | None, head: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """Base and head source files and whether the file's md5 changed (None: not comparable)."""
    before, after = ((s or {}).get("source_file") for s in (base, head))
    if before is None and after is None:
        return None
    changed = None if before is None or after is None else before["md5"] != after["md5"]
    return {"base": before, "head": after, "changed": changed}


def data_section(base: Side, head: Side) -> dict[str, Any]:
    before, after = prepare_outs(base), prepare_outs(head)
    changed = None if before is None or after is None else before != after
    base_summary, head_summary = data_summary(base), data_summary(head)
    return {
        "changed": changed,
        "base_outs": before,
        "head_outs": after,
        "base": base_summary,
        "head": head_summary,
        "source": source_change(base_summary, head_summary),
    }


# --- curves -------------------------------------------------------------------------------------


def curve_points(text: str | None, x: str, y: str) -> list[tuple[float, float]]:
    """Finite (x, y) pairs of a DVC plot table (a JSON list of objects), sorted by x."""
    doc = _json(text)
    points = []
    for row in doc if isinstance(doc, list) else []:
        if isinstance(row, Mapping):
            px, py = _finite(row.get(x)), _finite(row.get(y))
            if px is not None and py is not None:
                points.append((px, py))
    return sorted(points)


def roc_on_grid(points: list[tuple[float, float]], grid: tuple[float, ...] = GRID) -> list[float]:
    """Step interpolation: the best true-positive rate reachable at each false-positive rate."""
    return [round(max((t for f, t in points if f <= x + 1e-12), default=0.0), 3) for x in grid]


def pr_on_grid(points: list[tuple[float, float]], grid: tuple[float, ...] = GRID) -> list[float]:
    """Interpolated precision: the best precision at recall >= each grid point."""
    return [round(max((p for r, p in points if r >= x - 1e-12), default=0.0), 3) for x in grid]


def binned_predictions(
    points: list[tuple[float, float]], bins: int = 20
) -> tuple[list[float], list[float]]:
    """Mean actual and mean predicted in ``bins`` equal-count bins of the actual value."""
    n = len(points)
    k = min(bins, n)
    chunks = [points[i * n // k : (i + 1) * n // k] for i in range(k)]
    actual = [round(fmean(a for a, _ in chunk), 3) for chunk in chunks if chunk]
    predicted = [round(fmean(p for _, p in chunk), 3) for chunk in chunks if chunk]
    return actual, predicted


def _curve(
    title: str, labels: tuple[str, str], grid: list[float], series: list[tuple[str, list[float]]]
) -> dict[str, Any]:
    return {
        "title": title,
        "x_label": labels[0],
        "y_label": labels[1],
        "x": grid,
        "series": [{"name": name, "y": ys} for name, ys in series],
    }


def _classifier_curves(base: Side, head: Side) -> list[dict[str, Any]]:
    specs = (
        (
            "ROC",
            ROC_FILE,
            ("fpr", "tpr"),
            ("False positive rate", "True positive rate"),
            roc_on_grid,
        ),
        ("Precision-recall", PR_FILE, ("recall", "precision"), ("Recall", "Precision"), pr_on_grid),
    )
    curves = []
    for title, path, (x, y), labels, on_grid in specs:
        series = []
        for name, side in (("base", base), ("head", head)):
            points = curve_points(side.read(path), x, y)
            if points:
                series.append((name, on_grid(points)))
        if series:
            curves.append(_curve(f"{title}: base vs head", labels, list(GRID), series))
    return curves


def _regression_curves(base: Side, head: Side) -> list[dict[str, Any]]:
    curves = []
    for name, side in (("base", base), ("head", head)):
        points = curve_points(side.read(PREDICTIONS_FILE), "actual", "predicted")
        if points:
            actual, predicted = binned_predictions(points)
            grid = [float(i + 1) for i in range(len(actual))]
            series = [("actual", actual), ("predicted", predicted)]
            labels = ("Quantile bin of the actual value", "Mean value")
            curves.append(_curve(f"Predicted vs actual ({name})", labels, grid, series))
    return curves


def curves_section(base: Side, head: Side) -> list[dict[str, Any]]:
    """ROC and precision-recall for a classifier; predicted vs actual for a regressor."""
    return _classifier_curves(base, head) or _regression_curves(base, head)


def _label_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def confusion_matrix(text: str | None) -> dict[str, Any] | None:
    """Counts from a DVC confusion CSV (``actual,predicted`` rows), or None."""
    if text is None:
        return None
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error:
        return None
    pairs = Counter((r.get("actual"), r.get("predicted")) for r in rows)
    pairs = Counter({k: v for k, v in pairs.items() if k[0] is not None and k[1] is not None})
    labels = sorted({str(a) for a, _ in pairs} | {str(p) for _, p in pairs}, key=_label_key)
    if not labels or len(labels) > MAX_CLASSES:
        return {"labels": [], "matrix": [], "classes": len(labels)} if labels else None
    matrix = [[pairs[(a, p)] for p in labels] for a in labels]
    return {"labels": labels, "matrix": matrix, "classes": len(labels)}


# --- the report ---------------------------------------------------------------------------------


def build_report(
    repo: Git,
    base: str,
    head: str | None,
    root: Path,
    build: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Compare commit ``base`` with commit ``head`` (None: the workspace files under ``root``).

    ``build`` is a `mergeml verify-built --out` verdict, shown as the Build section.
    """
    before = git_side(repo, base)
    after = workspace_side(root) if head is None else git_side(repo, head)
    layout = layout_from_text(after.read(DVC_YAML) or before.read(DVC_YAML))
    raw = (read_metrics(before, layout.metrics), read_metrics(after, layout.metrics))
    metrics = metrics_section(layout.metrics, before, after, raw)
    gates = gates_section(after, before, raw)
    return {
        "model": layout.model,
        "base": before.describe(),
        "head": after.describe(),
        "verdict": verdict(gates, metrics["head_available"]),
        "build": dict(build) if build is not None else None,
        "params": params_section(before, after, layout.params_files),
        "metrics": metrics,
        "gates": gates,
        "data": data_section(before, after),
        "curves": curves_section(before, after),
        "confusion": {
            "base": confusion_matrix(before.read(CONFUSION_FILE)),
            "head": confusion_matrix(after.read(CONFUSION_FILE)),
        },
        "notes": [ARTIFACT_NOTE],
    }


# --- JSON ---------------------------------------------------------------------------------------


def render_json(report: Mapping[str, Any]) -> str:
    """The report as strict JSON (no NaN/Infinity literals), with a final newline."""
    return json.dumps(jsonable(report), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


# --- Markdown -----------------------------------------------------------------------------------


def _signed(value: float | None, pattern: str) -> str:
    return "—" if value is None else format(value, pattern)


def _md_header(report: Mapping[str, Any]) -> list[str]:
    v = report["verdict"]
    counts = f"{v['passed_gates']} passed, {v['failed_gates']} failed, {v['skipped_gates']} skipped"
    status = "✅ **Gates passed**" if v["passed"] else "❌ **Gates failed**"
    why = f" ({'; '.join(esc(r) for r in v['reasons'])})" if v["reasons"] else ""
    base, head = report["base"], report["head"]
    head_text = "workspace" if head["sha"] is None else f"{esc(head['ref'])} @ {head['short']}"
    return [
        MARKER,
        f"## mergeml report: {esc(report['model'])}",
        "",
        f"{status}: {counts}{why}",
        "",
        f"**Base:** {esc(base['ref'])} @ {base['short']} · **Head:** {head_text}",
    ]


_BUILD_ICON = {"identical": "✅", "equivalent": "☑️", "differs": "❌"}


def _md_build(build: Mapping[str, Any] | None) -> list[str]:
    """What `mergeml verify-built` found: identical, equivalent within tolerance, or not."""
    if build is None:
        return []
    outcome = str(build.get("outcome"))
    lines = [
        "",
        "### Build (`mergeml verify-built`)",
        "",
        f"{_BUILD_ICON.get(outcome, '❔')} **{esc(build.get('headline', outcome))}**",
    ]
    rows = [
        [esc(f.get("status")), f"`{esc(f.get('path'))}`", esc(f.get("detail"))]
        for f in build.get("findings", [])
        if f.get("status") != "identical"
    ]
    if rows:
        lines += ["", *table(["", "output", "detail"], rows)]
    for path, md5 in (build.get("promoted") or {}).items():
        where = f"`{esc(path)}` md5 `{esc(md5)}`"
        lines += ["", f"Promotion uses {where}, as the committed dvc.lock records."]
    return lines


def _param_row(change: Mapping[str, Any]) -> str:
    key = change["key"] if change["file"] == PARAMS_FILE else f"{change['file']}: {change['key']}"
    old = "_(added)_" if change["status"] == "added" else esc(change.get("old"))
    new = "_(removed)_" if change["status"] == "removed" else esc(change.get("new"))
    return f"| {esc(key)} | {old} | {new} |"


def _md_params(params: Mapping[str, Any], rows: list[str], shown: int) -> list[str]:
    lines = ["", "### Parameters", ""]
    swap = params["model_class"]
    if swap:
        lines += [f"**model class changed:** {esc(swap['old'])} → {esc(swap['new'])}", ""]
    if not rows:
        return [*lines, "No other parameter changes." if swap else "No parameter changes."]
    lines += ["| parameter | base | head |", "|---|---|---|", *rows[:shown]]
    if shown < len(rows):
        hidden = len(rows) - shown
        lines += ["", f"_… {hidden} more parameter change(s) not shown (comment size limit)._"]
    return lines


def _md_metrics(metrics: Mapping[str, Any]) -> list[str]:
    lines = ["", f"### Metrics ({esc(metrics['file'])})", ""]
    lines += [line for note in metrics["notes"] for line in (f"_{esc(note)}_", "")]
    if not metrics["rows"]:
        return [*lines, "No metrics to show."]
    rows = [
        [
            esc(r["name"]),
            fmt(r["base"]),
            fmt(r["head"]),
            _signed(r["abs"], "+.4g"),
            _signed(r["rel"], "+.2%"),
            MARKS[r["status"]],
        ]
        for r in metrics["rows"]
    ]
    return [*lines, *table(["metric", "base", "head", "change", "relative", ""], rows)]


def _md_gates(gates: Mapping[str, Any]) -> list[str]:
    lines = ["", "### Gates", ""]
    if gates["error"]:
        return [*lines, f"❌ gate rules are invalid: {esc(gates['error'])}"]
    if not gates["results"]:
        return [*lines, "No gates configured (`evaluate.gates` in params)."]
    icons = {"pass": "✅ pass", "fail": "❌ fail", "skip": "⏭️ skip"}
    rows = [
        [
            r["rule"],
            esc(r["metric"]),
            esc(r["threshold"]),
            fmt(r["head"]),
            fmt(r["base"]),
            icons.get(r["status"], esc(r["status"]))
            + (f" ({esc(r['reason'])})" if r["reason"] else ""),
        ]
        for r in gates["results"]
    ]
    return lines + table(["gate", "metric", "threshold", "head", "base", "result"], rows)


def balance(counts: object) -> str:
    if not isinstance(counts, Mapping):
        return "—"
    total = sum(v for v in counts.values() if _finite(v) is not None)
    parts = []
    for label, n in counts.items():
        share = f" ({n / total:.1%})" if total and _finite(n) is not None else ""
        parts.append(f"{esc(label)}: {esc(n)}{share}")
    return ", ".join(parts) or "—"


def split_value(summary: Mapping[str, Any], key: str, split: str) -> Any:
    table = summary.get(key)
    return table.get(split) if isinstance(table, Mapping) else None


def _code(path: str) -> str:
    """A path in a code span when it holds only plain characters, else escaped text."""
    return f"`{path}`" if set(path) <= PLAIN and len(path) <= MAX_CELL else esc(path)


def _md_source(source: Mapping[str, Any] | None) -> list[str]:
    """One line: the source file and whether its md5 changed between base and head."""
    if not source:
        return []
    sides = [s for s in (source["base"], source["head"]) if s]
    named = " → ".join(dict.fromkeys(_code(s["path"]) for s in sides))
    md5s = [f"{s['md5'][:8]}…" for s in sides]
    if source["changed"] is None:
        state = "new in head" if source["head"] else "not used in head"
    else:
        state = "**changed**" if source["changed"] else "unchanged"
    shown = md5s[-1] if source["changed"] is False else " → ".join(md5s)
    return [f"Source file {named}: {state} (md5 {shown})"]


def _md_data(data: Mapping[str, Any]) -> list[str]:
    state = {True: "**changed**", False: "unchanged", None: "unknown (no dvc.lock to compare)"}
    lines = [
        "",
        "### Data",
        "",
        f"Prepared data (`prepare` outputs in dvc.lock): {state[data['changed']]}",
    ]
    source = _md_source(data.get("source"))
    lines += ["", *source] if source else []
    base, head = data["base"] or {}, data["head"] or {}
    if not (base or head):
        return lines
    rows = []
    for split in ("train", "test"):
        counts = [split_value(side, "rows", split) for side in (base, head)]
        rows.append([f"{split} rows", *("—" if n is None else esc(n) for n in counts)])
        shares = [balance(split_value(side, "class_balance", split)) for side in (base, head)]
        rows.append([f"{split} classes", *shares])
    return [*lines, "", *table(["", "base", "head"], rows)]


def _tick(value: float) -> str:
    return f"{value:g}"


def _mermaid(curve: Mapping[str, Any]) -> list[str]:
    """An xychart-beta block; only numbers and mergeml's own titles go inside it."""
    values = [v for s in curve["series"] for v in s["y"]]
    low, high = (0.0, 1.0) if max(curve["x"]) <= 1 else (min(values), max(values))
    low, high = min(low, *values), max(high, *values)
    x_ticks = ", ".join(f'"{_tick(x)}"' for x in curve["x"])
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{curve["title"]}"',
        f'    x-axis "{curve["x_label"]}" [{x_ticks}]',
        f'    y-axis "{curve["y_label"]}" {_tick(low)} --> {_tick(high)}',
    ]
    lines += [f"    line [{', '.join(_tick(v) for v in s['y'])}]" for s in curve["series"]]
    names = ", ".join(s["name"] for s in curve["series"])
    return ["", *lines, "```", f"_Lines, in order: {names}._"]


def _md_curves(curves: list[Mapping[str, Any]], shown: bool) -> list[str]:
    lines = ["", "### Curves"]
    if not shown:
        return [*lines, "", "_Curves omitted to keep this comment under the size limit._"]
    if not curves:
        return [*lines, "", "No curve data (reports/plots) at either side."]
    return lines + [line for curve in curves for line in _mermaid(curve)]


def _md_matrix(title: str, matrix: Mapping[str, Any] | None) -> list[str]:
    if matrix is None:
        return ["", f"**{title}:** not available"]
    if not matrix["labels"]:
        return ["", f"**{title}:** {matrix['classes']} classes, too many to show"]
    labels = [esc(label, 40) for label in matrix["labels"]]
    rows = [
        [f"**{a}**", *(str(n) for n in row)]
        for a, row in zip(labels, matrix["matrix"], strict=True)
    ]
    return ["", f"**{title}** (rows: actual, columns: predicted)", "", *table(["", *labels], rows)]


def _md_confusion(confusion: Mapping[str, Any]) -> list[str]:
    if confusion["base"] is None and confusion["head"] is None:
        return []
    lines = ["", "### Confusion matrices"]
    return lines + _md_matrix("base", confusion["base"]) + _md_matrix("head", confusion["head"])


def _assemble(report: Mapping[str, Any], param_rows: list[str], shown: int, curves: bool) -> str:
    lines = [
        *_md_header(report),
        *_md_build(report.get("build")),
        *_md_params(report["params"], param_rows, shown),
        *_md_metrics(report["metrics"]),
        *_md_gates(report["gates"]),
        *_md_data(report["data"]),
        *_md_curves(report["curves"], curves),
        *_md_confusion(report["confusion"]),
        "",
        "---",
        *(f"_{note}_" for note in report["notes"]),
    ]
    return "\n".join(lines) + "\n"


def render_markdown(report: Mapping[str, Any], limit: int = MAX_BODY) -> str:
    """The PR comment body, always shorter than ``limit`` characters.

    When too long, curves go first, then parameter rows, each with a visible note;
    as a last resort the text is cut with a note.
    """
    rows = [_param_row(change) for change in report["params"]["changes"]]
    text = _assemble(report, rows, len(rows), curves=True)
    if len(text) < limit:
        return text
    text = _assemble(report, rows, len(rows), curves=False)
    if len(text) < limit:
        return text
    fixed = len(_assemble(report, rows, 0, curves=False))
    text = _assemble(report, rows, fit_rows(rows, limit - fixed - 200), curves=False)
    if len(text) < limit:
        return text
    note = "\n\n_… report truncated to stay under the comment size limit._\n"
    cut = text[: limit - len(note) - 1]
    return cut[: cut.rfind("\n") if "\n" in cut else len(cut)] + note
