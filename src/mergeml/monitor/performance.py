"""`mergeml monitor performance`: the model's metrics on the labelled predictions of a
window, with seeded bootstrap confidence intervals, against what evaluation recorded.

Feedback is joined to predictions on (request_id, row); the last label given for a row
wins. Degraded when a `min` (`max`) gate of params/evaluate at the model's commit is
failed by the interval's upper (lower) bound, so that the whole interval is on the failing
side, or when even the interval's best bound dropped below the evaluation metric by more
than the `vs_base` tolerance: a window's point estimate on a few hundred labels moves by
more than a tolerance made for a full test split (the demo's drift-free traffic did), so it
alone never calls the model degraded. The gate logic is `mergeml.review.gates`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mergeml.errors import EvaluationError, MetricsFileError, MonitorError
from mergeml.evaluation.catalog import CLASSIFICATION_METRICS, METRIC_DIRECTION, REGRESSION_METRICS
from mergeml.review.gates import GateResult, check_gates, parse_metrics

if TYPE_CHECKING:
    import pandas as pd

    from mergeml.monitor.target import MonitorTarget

PROBA = "proba_"


@dataclass(frozen=True)
class MetricEstimate:
    name: str
    value: float
    low: float | None  # None: no resample could compute it
    high: float | None
    evaluated: float | None  # what reports/metrics.json recorded at the model's commit


@dataclass(frozen=True)
class PerformanceReport:
    target: MonitorTarget
    source: str
    labelled: int  # predictions with a label
    predictions: int
    min_labels: int
    confidence: float
    metrics: tuple[MetricEstimate, ...]
    gates: tuple[GateResult, ...]

    @property
    def enough(self) -> bool:
        return self.labelled >= self.min_labels

    @property
    def degraded(self) -> bool:
        return self.enough and any(g.failed for g in self.gates)


def join_feedback(predictions: pd.DataFrame, feedback: pd.DataFrame) -> pd.DataFrame:
    """Predictions with their ``label`` (the last one given per request_id and row)."""
    import pandas as pd

    missing = [c for c in ("request_id", "row", "prediction") if c not in predictions]
    if missing:
        raise MonitorError(f"the logged predictions lack column(s) {', '.join(missing)}")
    if feedback.empty or "label" not in feedback:
        return predictions.iloc[0:0].assign(label=pd.Series(dtype=object))
    labels = feedback.copy()
    if "row" not in labels:
        labels["row"] = 0
    if "time" in labels:
        labels = labels.sort_values("time", kind="stable")
    labels = labels.drop_duplicates(["request_id", "row"], keep="last")
    try:
        labels = labels[["request_id", "row", "label"]].astype({"request_id": str, "row": "int64"})
        keys = predictions.astype({"request_id": str, "row": "int64"})
    except (TypeError, ValueError) as exc:
        raise MonitorError(f"feedback rows must be whole numbers: {exc}") from exc
    joined = keys.merge(labels, on=["request_id", "row"], how="inner")
    return joined[joined["label"].notna()].reset_index(drop=True)


def _classes(frame: pd.DataFrame, schema: dict[str, Any] | None) -> list[Any]:
    names = [c.removeprefix(PROBA) for c in frame.columns if c.startswith(PROBA)]
    known = (schema or {}).get("classes")
    if known and sorted(str(k) for k in known) == sorted(names):
        return list(known)
    return names


def _as_label_type(values: pd.Series, classes: list[Any]) -> np.ndarray:
    """Labels in the classes' type (feedback may hold "1" where the model says 1)."""
    by_text = {str(c): c for c in classes}
    return np.asarray([by_text.get(str(v), v) for v in values])


@dataclass(frozen=True)
class _Scorer:
    """Computes the named metrics on the rows ``index`` of the joined frame."""

    names: tuple[str, ...]
    truth: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None
    classes: list[Any]

    def __call__(self, index: np.ndarray) -> dict[str, float]:
        from mergeml.evaluation.scores import classification_metrics, regression_metrics

        if self.proba is None:
            found = regression_metrics(self.truth[index], self.pred[index], names=self.names)
        else:
            found = classification_metrics(
                self.truth[index],
                self.pred[index],
                self.proba[index],
                names=self.names,
                positive_label=self.classes[1] if len(self.classes) == 2 else 1,
                labels=self.classes,
            )
        return {n: float(found[n]) for n in self.names}


def _scorer(joined: pd.DataFrame, schema: dict[str, Any] | None, wanted: set[str]) -> _Scorer:
    classes = _classes(joined, schema)
    if classes:
        names = tuple(sorted(wanted & set(CLASSIFICATION_METRICS)))
        truth = _as_label_type(joined["label"], classes)
        pred = _as_label_type(joined["prediction"], classes)
        proba = joined[[f"{PROBA}{c}" for c in classes]].to_numpy(dtype=float)
        return _Scorer(names, truth, pred, proba, classes)
    names = tuple(sorted(wanted & set(REGRESSION_METRICS)))
    try:
        truth = joined["label"].astype(float).to_numpy()
    except (TypeError, ValueError) as exc:
        raise MonitorError("feedback labels must be numbers for a regression model") from exc
    return _Scorer(names, truth, joined["prediction"].astype(float).to_numpy(), None, [])


def bootstrap(
    scorer: _Scorer, rows: int, *, resamples: int, confidence: float, seed: int
) -> dict[str, tuple[float | None, float | None]]:
    """Percentile intervals per metric from ``resamples`` seeded resamples of the rows;
    a resample on which a metric is undefined (one class only) is left out for it."""
    rng = np.random.default_rng(seed)
    found: dict[str, list[float]] = {n: [] for n in scorer.names}
    for _ in range(resamples):
        index = rng.integers(0, rows, rows)
        try:
            for name, value in scorer(index).items():
                found[name].append(value)
        except EvaluationError:  # one of them is undefined here: take the others one by one
            for name in scorer.names:
                try:
                    found[name].append(_one(scorer, index, name))
                except EvaluationError:
                    continue
    tail = (1.0 - confidence) / 2 * 100
    return {
        n: (float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail)))
        if v
        else (None, None)
        for n, v in found.items()
    }


def _one(scorer: _Scorer, index: np.ndarray, name: str) -> float:
    single = _Scorer((name,), scorer.truth, scorer.pred, scorer.proba, scorer.classes)
    return single(index)[name]


def _evaluated(target: MonitorTarget) -> dict[str, Any]:
    where = f"{target.layout.metrics} at {target.side.short}"
    try:
        return parse_metrics(target.metrics_text(), where)
    except MetricsFileError as exc:
        raise MonitorError(str(exc)) from exc


def _best_bound(estimate: MetricEstimate) -> float:
    """The interval's bound on the metric's better side (the value when it has none)."""
    bound = estimate.high if METRIC_DIRECTION.get(estimate.name) != "lower" else estimate.low
    return estimate.value if bound is None else bound


def _gate_results(
    target: MonitorTarget, estimates: list[MetricEstimate], evaluated: dict[str, Any]
) -> list[GateResult]:
    """min gates on the upper bounds, max gates on the lower bounds, vs_base on the bound
    on the better side against the evaluation's metrics; metrics not estimated are skipped."""
    rules = target.gates()
    have = {e.name: e for e in estimates}
    upper = {n: e.high for n, e in have.items() if e.high is not None}
    lower = {n: e.low for n, e in have.items() if e.low is not None}
    only = {"min": {k: v for k, v in rules.min.items() if k in upper}}
    results = check_gates(rules.model_copy(update={**only, "max": {}, "vs_base": {}}), upper, None)
    maxes = {k: v for k, v in rules.max.items() if k in lower}
    results += check_gates(
        rules.model_copy(update={"min": {}, "max": maxes, "vs_base": {}}), lower, None
    )
    best = {n: _best_bound(e) for n, e in have.items()}
    vs = {k: v for k, v in rules.vs_base.items() if k in best}
    results += check_gates(
        rules.model_copy(update={"min": {}, "max": {}, "vs_base": vs}),
        best,
        evaluated,
        no_base="no evaluation metric",
    )
    return results


def measure(
    target: MonitorTarget, joined: pd.DataFrame, settings: Any, source: str, predictions: int
) -> PerformanceReport:
    """The report for the labelled predictions ``joined`` (``settings``: the performance
    section: bootstrap, confidence, min_labels, seed)."""
    evaluated = _evaluated(target)
    rules = target.gates()
    wanted = {k for k, v in evaluated.items() if isinstance(v, int | float)}
    wanted |= set(rules.min) | set(rules.max) | set(rules.vs_base)
    base = dict(
        target=target,
        source=source,
        labelled=len(joined),
        predictions=predictions,
        min_labels=int(settings.min_labels),
        confidence=float(settings.confidence),
    )
    if len(joined) < int(settings.min_labels):
        return PerformanceReport(**base, metrics=(), gates=())  # type: ignore[arg-type]
    scorer = _scorer(joined, target.schema(), wanted)
    everything = np.arange(len(joined))
    try:
        point = scorer(everything)
    except EvaluationError as exc:
        raise MonitorError(f"the labelled predictions cannot be scored: {exc}") from exc
    # Intervals for the gated metrics only: the verdict needs no others, and each metric
    # costs a scikit-learn call per resample.
    gated = tuple(
        n for n in scorer.names if n in set(rules.min) | set(rules.max) | set(rules.vs_base)
    )
    bounds: dict[str, tuple[float | None, float | None]] = {n: (point[n], point[n]) for n in gated}
    if int(settings.bootstrap) > 0 and gated:
        bounds = bootstrap(
            _Scorer(gated, scorer.truth, scorer.pred, scorer.proba, scorer.classes),
            len(joined),
            resamples=int(settings.bootstrap),
            confidence=float(settings.confidence),
            seed=int(settings.seed),
        )
    estimates = [
        MetricEstimate(n, point[n], *bounds.get(n, (None, None)), _number(evaluated.get(n)))
        for n in scorer.names
    ]
    gates = _gate_results(target, estimates, evaluated)
    return PerformanceReport(**base, metrics=tuple(estimates), gates=tuple(gates))  # type: ignore[arg-type]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
