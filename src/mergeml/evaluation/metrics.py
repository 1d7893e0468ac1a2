"""Metrics, DVC plot tables and stable JSON for fitted scikit-learn estimators.

Arrays go in; plain Python dicts and lists come out, so every result can be
written with :func:`dumps_json` and reviewed as a diff. A metric that cannot be
computed (for example ROC AUC on a test set with one class) raises a
:class:`~mergeml.errors.EvaluationError` naming the metric instead of warning.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.preprocessing import label_binarize

from mergeml.errors import EvaluationError, one_line
from mergeml.evaluation.catalog import CLASSIFICATION_METRICS, REGRESSION_METRICS
from mergeml.files import dumps_json, write_text_atomic

logger = logging.getLogger(__name__)

# Metrics that need class probabilities rather than predicted labels.
_SCORE_METRICS = frozenset({"roc_auc", "average_precision", "log_loss"})
# Metrics that are undefined unless every class occurs in y_true.
_ALL_CLASSES_METRICS = frozenset({"roc_auc", "average_precision"})


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics (``{name: float, "support": {...}}``) and plot tables keyed by plot name."""

    metrics: dict[str, Any]
    plots: dict[str, list[dict[str, Any]]]


# --- input checks -----------------------------------------------------------------------------


def _check_names(names: Sequence[str], valid: tuple[str, ...], kind: str) -> list[str]:
    """Return ``names`` as a list, or fail on the first name not in ``valid``."""
    if isinstance(names, str):
        names = [names]
    for name in names:
        if name not in valid:
            raise EvaluationError(
                f"unknown {kind} metric {name!r}; valid metrics: {', '.join(valid)}"
            )
    return list(names)


def _as_1d(values: ArrayLike, what: str) -> np.ndarray:
    """Return ``values`` as a non-empty 1-D array."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise EvaluationError(f"{what} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise EvaluationError(f"{what} is empty: there are no test rows to evaluate")
    return array


def _as_finite_floats(values: ArrayLike, what: str, *, ndim: int = 1) -> np.ndarray:
    """Return ``values`` as a float array of ``ndim`` dimensions with no NaN or infinity."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(f"{what} must be numeric: {one_line(str(exc))}") from exc
    if array.ndim != ndim:
        raise EvaluationError(f"{what} must be {ndim}-D, got shape {array.shape}")
    if array.size == 0:
        raise EvaluationError(f"{what} is empty: there are no test rows to evaluate")
    if not np.isfinite(array).all():
        raise EvaluationError(f"{what} contains NaN or infinity")
    return array


def _check_finite_labels(labels: np.ndarray, what: str) -> None:
    """Fail if numeric class labels contain NaN or infinity."""
    if labels.dtype.kind in "fc" and not np.isfinite(labels).all():
        raise EvaluationError(f"{what} contains NaN or infinity")


def _check_same_length(first: np.ndarray, second: np.ndarray, names: str) -> None:
    """Fail unless both arrays describe the same number of test rows."""
    if len(first) != len(second):
        raise EvaluationError(f"{names} have different lengths: {len(first)} and {len(second)}")


def _class_list(truth: np.ndarray, pred: np.ndarray, labels: Sequence[Any] | None) -> list[Any]:
    """Return the class labels in score-column order; default: sorted labels seen."""
    if labels is None:
        return np.unique(np.concatenate([truth, pred])).tolist()
    classes = np.asarray(labels).tolist()
    for what, values in (("y_true", truth), ("y_pred", pred)):
        unknown = np.unique(values[~np.isin(values, classes)]).tolist()
        if unknown:
            raise EvaluationError(f"{what} contains labels {unknown} not in labels {classes}")
    return classes


def _max_points_ok(max_points: int) -> None:
    """Fail unless ``max_points`` can keep both endpoints of a curve."""
    if max_points < 2:
        raise EvaluationError(f"max_points must be at least 2, got {max_points}")


# --- metrics ----------------------------------------------------------------------------------


def _compute(name: str, compute: Callable[[], Any]) -> float:
    """Run one metric; turn scikit-learn errors and undefined results into EvaluationError."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("error", UndefinedMetricWarning)
            value = float(compute())
    except (ValueError, UndefinedMetricWarning) as exc:
        raise EvaluationError(f"metric {name} cannot be computed: {one_line(str(exc))}") from exc
    if not math.isfinite(value):
        raise EvaluationError(f"metric {name} is not finite ({value}) on this test set")
    return value


def _undefined_without_all_classes(
    name: str, truth: np.ndarray, classes: list[Any], positive_label: Any, multiclass: bool
) -> None:
    """Fail if a metric needs every class in y_true but some are missing."""
    present = np.unique(truth).tolist()
    if multiclass:
        missing = [label for label in classes if label not in present]
        if missing:
            raise EvaluationError(
                f"metric {name} is undefined: classes {missing} do not occur in y_true"
            )
    elif len(present) < 2 or positive_label not in present:
        raise EvaluationError(
            f"metric {name} is undefined: y_true contains only {present}; it needs "
            f"positive ({positive_label!r}) and negative rows"
        )


def _score_array(
    y_score: ArrayLike | None, n_rows: int, classes: list[Any], positive_label: Any
) -> np.ndarray:
    """Return positive-class scores (binary, 1-D) or the probability matrix (multiclass, 2-D)."""
    if y_score is None:
        raise EvaluationError(
            f"y_score is required for metrics {', '.join(sorted(_SCORE_METRICS))}"
        )
    scores = _as_finite_floats(y_score, "y_score", ndim=2 if np.ndim(y_score) == 2 else 1)
    if len(scores) != n_rows:
        raise EvaluationError(f"y_score has {len(scores)} rows but y_true has {n_rows}")
    if scores.ndim == 1:
        if len(classes) > 2:
            raise EvaluationError(
                f"y_score is 1-D but there are {len(classes)} classes; "
                "pass the full probability matrix"
            )
        return scores
    if scores.shape[1] != len(classes):
        raise EvaluationError(
            f"y_score has {scores.shape[1]} columns but there are {len(classes)} classes "
            f"{classes}; pass labels in the column order (model.classes_)"
        )
    if len(classes) > 2:
        return scores
    if positive_label not in classes:
        raise EvaluationError(f"positive_label {positive_label!r} is not one of {classes}")
    return scores[:, classes.index(positive_label)]


def classification_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_score: ArrayLike | None,
    *,
    names: Sequence[str],
    positive_label: Any = 1,
    labels: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Compute the named classification metrics plus row and class support.

    Binary: ``y_score`` is the positive-class probability (1-D) or a two-column
    probability matrix. More than two classes: ``y_score`` is the probability
    matrix with columns in ``labels`` order, and metrics are macro averages
    (ROC AUC one-vs-rest). ``labels`` defaults to the sorted labels seen in
    ``y_true`` and ``y_pred``. ``y_score`` may be None when no probability
    metric is requested. Precision, recall and F1 count 0/0 as 0.0.
    """
    wanted = _check_names(names, CLASSIFICATION_METRICS, "classification")
    truth = _as_1d(y_true, "y_true")
    pred = _as_1d(y_pred, "y_pred")
    _check_same_length(truth, pred, "y_true and y_pred")
    _check_finite_labels(truth, "y_true")
    _check_finite_labels(pred, "y_pred")
    classes = _class_list(truth, pred, labels)
    multiclass = len(classes) > 2
    if not multiclass and len(classes) == 2 and positive_label not in classes:
        raise EvaluationError(f"positive_label {positive_label!r} is not one of {classes}")

    scores = None
    if any(name in _SCORE_METRICS for name in wanted):
        scores = _score_array(y_score, len(truth), classes, positive_label)
    binary_truth = (truth == positive_label).astype(int) if not multiclass else truth
    binary_classes = classes if multiclass else [0, 1]
    averaging: dict[str, Any] = (
        {"average": "macro", "labels": classes}
        if multiclass
        else {"average": "binary", "pos_label": positive_label}
    )

    computations: dict[str, Callable[[], Any]] = {
        "accuracy": lambda: skm.accuracy_score(truth, pred),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(truth, pred),
        "precision": lambda: skm.precision_score(truth, pred, zero_division=0.0, **averaging),
        "recall": lambda: skm.recall_score(truth, pred, zero_division=0.0, **averaging),
        "f1": lambda: skm.f1_score(truth, pred, zero_division=0.0, **averaging),
        "roc_auc": lambda: (
            skm.roc_auc_score(truth, scores, multi_class="ovr", average="macro", labels=classes)
            if multiclass
            else skm.roc_auc_score(binary_truth, scores)
        ),
        "average_precision": lambda: (
            skm.average_precision_score(
                label_binarize(truth, classes=classes), scores, average="macro"
            )
            if multiclass
            else skm.average_precision_score(binary_truth, scores)
        ),
        "log_loss": lambda: skm.log_loss(binary_truth, scores, labels=binary_classes),
    }

    result: dict[str, Any] = {}
    for name in wanted:
        if name in _ALL_CLASSES_METRICS:
            _undefined_without_all_classes(name, truth, classes, positive_label, multiclass)
        result[name] = _compute(name, computations[name])
    result["support"] = {
        "test_rows": len(truth),
        "by_class": {str(label): int(np.sum(truth == label)) for label in classes},
    }
    return result


def regression_metrics(
    y_true: ArrayLike, y_pred: ArrayLike, *, names: Sequence[str]
) -> dict[str, Any]:
    """Compute the named regression metrics plus the number of test rows.

    R² is reported as undefined (an error) for fewer than two rows or a constant
    ``y_true``, rather than scikit-learn's substitute values.
    """
    wanted = _check_names(names, REGRESSION_METRICS, "regression")
    truth = _as_finite_floats(y_true, "y_true")
    pred = _as_finite_floats(y_pred, "y_pred")
    _check_same_length(truth, pred, "y_true and y_pred")

    computations: dict[str, Callable[[], Any]] = {
        "rmse": lambda: skm.root_mean_squared_error(truth, pred),
        "mae": lambda: skm.mean_absolute_error(truth, pred),
        "r2": lambda: skm.r2_score(truth, pred, force_finite=False),
    }
    result: dict[str, Any] = {}
    for name in wanted:
        if name == "r2" and (len(truth) < 2 or np.ptp(truth) == 0):
            raise EvaluationError(
                "metric r2 is undefined: y_true needs two or more distinct values"
            )
        result[name] = _compute(name, computations[name])
    result["support"] = {"test_rows": len(truth)}
    return result


# --- stable JSON ------------------------------------------------------------------------------


# --- plot tables ------------------------------------------------------------------------------


def _evenly_spaced(n_rows: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spaced rows, always the first and last."""
    _max_points_ok(max_points)
    if n_rows <= max_points:
        return np.arange(n_rows)
    return np.unique(np.rint(np.linspace(0, n_rows - 1, max_points)).astype(int))


def _binary_curve_inputs(
    y_true: ArrayLike, y_score: ArrayLike, positive_label: Any, curve: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return (0/1 truth, scores) for a curve, failing unless both classes are present."""
    truth = _as_1d(y_true, "y_true")
    scores = _as_finite_floats(y_score, "y_score")
    _check_same_length(truth, scores, "y_true and y_score")
    binary = (truth == positive_label).astype(int)
    if binary.min() == binary.max():
        raise EvaluationError(
            f"{curve} curve is undefined: y_true needs both positive ({positive_label!r}) "
            "and negative rows"
        )
    return binary, scores


def roc_points(
    y_true: ArrayLike, y_score: ArrayLike, max_points: int = 200, *, positive_label: Any = 1
) -> list[dict[str, float]]:
    """ROC curve rows ``{fpr, tpr, threshold}`` from (0, 0) to (1, 1), thresholds descending.

    scikit-learn's infinite first threshold is written as ``max(y_score) + 1``,
    a finite value above every score. At most ``max_points`` evenly spaced rows
    are kept, always including the first and last.
    """
    binary, scores = _binary_curve_inputs(y_true, y_score, positive_label, "ROC")
    fpr, tpr, thresholds = skm.roc_curve(binary, scores)
    thresholds = np.where(np.isinf(thresholds), scores.max() + 1.0, thresholds)
    keep = _evenly_spaced(len(fpr), max_points)
    return [
        {"fpr": float(fpr[i]), "tpr": float(tpr[i]), "threshold": float(thresholds[i])}
        for i in keep
    ]


def pr_points(
    y_true: ArrayLike, y_score: ArrayLike, max_points: int = 200, *, positive_label: Any = 1
) -> list[dict[str, float]]:
    """Precision-recall rows ``{recall, precision, threshold}``, thresholds descending.

    The first row is scikit-learn's (recall 0, precision 1) end point, which has
    no threshold; it is written as ``max(y_score) + 1`` as in :func:`roc_points`.
    Downsampled like :func:`roc_points`.
    """
    binary, scores = _binary_curve_inputs(y_true, y_score, positive_label, "precision-recall")
    precision, recall, thresholds = skm.precision_recall_curve(binary, scores)
    thresholds = np.append(thresholds, scores.max() + 1.0)
    order = np.arange(len(precision))[::-1]
    keep = order[_evenly_spaced(len(order), max_points)]
    return [
        {
            "recall": float(recall[i]),
            "precision": float(precision[i]),
            "threshold": float(thresholds[i]),
        }
        for i in keep
    ]


def confusion_rows(y_true: ArrayLike, y_pred: ArrayLike) -> list[dict[str, str]]:
    """One ``{actual, predicted}`` row per test row, labels as strings (DVC confusion plot)."""
    truth = _as_1d(y_true, "y_true")
    pred = _as_1d(y_pred, "y_pred")
    _check_same_length(truth, pred, "y_true and y_pred")
    return [
        {"actual": str(actual), "predicted": str(predicted)}
        for actual, predicted in zip(truth.tolist(), pred.tolist(), strict=True)
    ]


def confusion_counts(
    y_true: ArrayLike, y_pred: ArrayLike, *, labels: Sequence[Any] | None = None
) -> dict[str, dict[str, int]]:
    """Nested counts ``{actual: {predicted: n}}`` over every label, zeros included."""
    truth = _as_1d(y_true, "y_true")
    pred = _as_1d(y_pred, "y_pred")
    _check_same_length(truth, pred, "y_true and y_pred")
    classes = _class_list(truth, pred, labels)
    matrix = skm.confusion_matrix(truth, pred, labels=classes)
    return {
        str(actual): {str(predicted): int(matrix[i, j]) for j, predicted in enumerate(classes)}
        for i, actual in enumerate(classes)
    }


def _regression_sample(
    y_true: ArrayLike, y_pred: ArrayLike, max_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by actual value (stable), then evenly downsampled to ``max_points``."""
    truth = _as_finite_floats(y_true, "y_true")
    pred = _as_finite_floats(y_pred, "y_pred")
    _check_same_length(truth, pred, "y_true and y_pred")
    order = np.argsort(truth, kind="stable")
    keep = order[_evenly_spaced(len(order), max_points)]
    return truth[keep], pred[keep]


def prediction_points(
    y_true: ArrayLike, y_pred: ArrayLike, max_points: int = 1000
) -> list[dict[str, float]]:
    """``{actual, predicted}`` rows sorted by actual, evenly downsampled (min and max kept)."""
    truth, pred = _regression_sample(y_true, y_pred, max_points)
    return [
        {"actual": float(a), "predicted": float(p)}
        for a, p in zip(truth.tolist(), pred.tolist(), strict=True)
    ]


def residual_points(
    y_true: ArrayLike, y_pred: ArrayLike, max_points: int = 1000
) -> list[dict[str, float]]:
    """``{predicted, residual}`` rows with residual = actual - predicted; same rows as
    :func:`prediction_points`."""
    truth, pred = _regression_sample(y_true, y_pred, max_points)
    return [
        {"predicted": float(p), "residual": float(a - p)}
        for a, p in zip(truth.tolist(), pred.tolist(), strict=True)
    ]


# --- estimators -------------------------------------------------------------------------------


def evaluate_classifier(
    model: Any, X: Any, y: ArrayLike, *, names: Sequence[str], positive_label: Any = None
) -> EvaluationResult:
    """Evaluate a fitted classifier that has ``predict_proba``.

    ``positive_label`` defaults to ``model.classes_[1]`` for two classes. With
    more classes the ROC and precision-recall tables are micro-averaged
    one-vs-rest curves, so the plot schema does not change.
    """
    classes = getattr(model, "classes_", None)
    if classes is None:
        raise EvaluationError(f"{type(model).__name__} has no classes_: is it a fitted classifier?")
    classes = np.asarray(classes).tolist()
    if len(classes) < 2:
        raise EvaluationError(f"classifier was fitted on a single class {classes}")
    if not hasattr(model, "predict_proba"):
        raise EvaluationError(
            f"{type(model).__name__} has no predict_proba: ROC and precision-recall plots "
            "need class probabilities"
        )
    truth = _as_1d(y, "y")
    proba = np.asarray(model.predict_proba(X))
    # The most probable class is what predict() returns for these estimators; deriving
    # it here spares a second pass through the preprocessing.
    pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    pred = pred.astype(np.asarray(classes).dtype)
    if len(classes) == 2:
        positive = classes[1] if positive_label is None else positive_label
        if positive not in classes:
            raise EvaluationError(f"positive_label {positive!r} is not one of {classes}")
        curve_truth, curve_score = truth, proba[:, classes.index(positive)]
    else:
        positive = 1
        curve_truth = label_binarize(truth, classes=classes).ravel()
        curve_score = proba.ravel()

    metrics = classification_metrics(
        truth, pred, proba, names=names, positive_label=positive, labels=classes
    )
    plots: dict[str, list[dict[str, Any]]] = {
        "roc": roc_points(curve_truth, curve_score, positive_label=positive),
        "precision_recall": pr_points(curve_truth, curve_score, positive_label=positive),
        "confusion": confusion_rows(truth, pred),
    }
    logger.debug("classifier metrics: %s", metrics)
    return EvaluationResult(metrics=metrics, plots=plots)


def evaluate_regressor(
    model: Any, X: Any, y: ArrayLike, *, names: Sequence[str]
) -> EvaluationResult:
    """Evaluate a fitted regressor: metrics plus prediction and residual tables."""
    pred = np.asarray(model.predict(X))
    metrics = regression_metrics(y, pred, names=names)
    plots: dict[str, list[dict[str, Any]]] = {
        "predictions": prediction_points(y, pred),
        "residuals": residual_points(y, pred),
    }
    logger.debug("regressor metrics: %s", metrics)
    return EvaluationResult(metrics=metrics, plots=plots)


def write_reports(result: EvaluationResult, reports: Path) -> None:
    """Write metrics.json and plots/*: JSON tables, and the confusion pairs as CSV.

    The confusion table has one row per test row, so CSV keeps it small in git.
    """
    write_text_atomic(reports / "metrics.json", dumps_json(result.metrics))
    for name, rows in result.plots.items():
        if name == "confusion":
            lines = ["actual,predicted"] + [f"{r['actual']},{r['predicted']}" for r in rows]
            write_text_atomic(reports / "plots" / "confusion.csv", "\n".join(lines) + "\n")
        else:
            write_text_atomic(reports / "plots" / f"{name}.json", dumps_json(rows))
