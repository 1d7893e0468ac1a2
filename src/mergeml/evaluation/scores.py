"""Metric values: the named classification and regression metrics of one test set.

A metric that cannot be computed (for example ROC AUC on a test set with one class)
raises an :class:`~mergeml.errors.EvaluationError` naming the metric instead of warning.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.preprocessing import label_binarize

from mergeml.errors import EvaluationError
from mergeml.evaluation.catalog import CLASSIFICATION_METRICS, REGRESSION_METRICS
from mergeml.evaluation.checks import (
    as_finite_floats,
    brief,
    check_finite_labels,
    check_names,
    check_positive_label,
    check_same_length,
    class_list,
    label_pair,
    listed,
)

# Metrics that need class probabilities rather than predicted labels.
SCORE_METRICS = frozenset({"roc_auc", "average_precision", "log_loss"})
# Metrics that are undefined unless every class occurs in y_true.
_ALL_CLASSES_METRICS = frozenset({"roc_auc", "average_precision"})


def _compute(name: str, compute: Callable[[], Any]) -> float:
    """Run one metric; turn scikit-learn errors and undefined results into EvaluationError."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("error", UndefinedMetricWarning)
            value = float(compute())
    except (ValueError, UndefinedMetricWarning) as exc:
        raise EvaluationError(f"metric {name} cannot be computed: {brief(exc)}") from exc
    if not math.isfinite(value):
        raise EvaluationError(f"metric {name} is not finite ({value}) on this test set")
    return value


@dataclass(frozen=True)
class _Classified:
    """Checked classification inputs: labels, classes in score-column order, scores."""

    truth: np.ndarray
    pred: np.ndarray
    classes: list[Any]
    positive_label: Any
    scores: np.ndarray | None

    @property
    def multiclass(self) -> bool:
        return len(self.classes) > 2

    def require_all_classes(self, name: str) -> None:
        """Fail if metric ``name`` needs every class in y_true but some are missing."""
        present = np.unique(self.truth).tolist()
        if self.multiclass:
            missing = [label for label in self.classes if label not in present]
            if missing:
                raise EvaluationError(
                    f"metric {name} is undefined: classes {listed(missing)} do not occur "
                    f"in y_true ({len(missing)} of {len(self.classes)})"
                )
        elif len(present) < 2 or self.positive_label not in present:
            raise EvaluationError(
                f"metric {name} is undefined: y_true contains only {listed(present)}; it needs "
                f"positive ({self.positive_label!r}) and negative rows"
            )


def _score_array(
    y_score: ArrayLike | None, n_rows: int, classes: list[Any], positive_label: Any
) -> np.ndarray:
    """Return positive-class scores (binary, 1-D) or the probability matrix (multiclass, 2-D)."""
    if y_score is None:
        raise EvaluationError(f"y_score is required for metrics {', '.join(sorted(SCORE_METRICS))}")
    scores = as_finite_floats(y_score, "y_score", ndim=2 if np.ndim(y_score) == 2 else 1)
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
            f"{listed(classes)}; pass labels in the column order (model.classes_)"
        )
    if len(classes) > 2:
        return scores
    check_positive_label(positive_label, classes)
    return scores[:, classes.index(positive_label)]


def _classified(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_score: ArrayLike | None,
    wanted: list[str],
    positive_label: Any,
    labels: Sequence[Any] | None,
) -> _Classified:
    """Check the labels, the classes and (when a metric needs them) the scores."""
    truth, pred = label_pair(y_true, y_pred)
    check_finite_labels(truth, "y_true")
    check_finite_labels(pred, "y_pred")
    classes = class_list(truth, pred, labels)
    if len(classes) == 2:
        check_positive_label(positive_label, classes)
    scores = None
    if any(name in SCORE_METRICS for name in wanted):
        scores = _score_array(y_score, len(truth), classes, positive_label)
    return _Classified(truth, pred, classes, positive_label, scores)


def _classification_computations(c: _Classified) -> dict[str, Callable[[], Any]]:
    """One deferred computation per metric name (macro averages for more than two classes)."""
    truth, pred, scores, classes = c.truth, c.pred, c.scores, c.classes
    binary_truth = truth if c.multiclass else (truth == c.positive_label).astype(int)
    binary_classes = classes if c.multiclass else [0, 1]
    averaging: dict[str, Any] = (
        {"average": "macro", "labels": classes}
        if c.multiclass
        else {"average": "binary", "pos_label": c.positive_label}
    )
    return {
        "accuracy": lambda: skm.accuracy_score(truth, pred),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(truth, pred),
        "precision": lambda: skm.precision_score(truth, pred, zero_division=0.0, **averaging),
        "recall": lambda: skm.recall_score(truth, pred, zero_division=0.0, **averaging),
        "f1": lambda: skm.f1_score(truth, pred, zero_division=0.0, **averaging),
        "roc_auc": lambda: (
            skm.roc_auc_score(truth, scores, multi_class="ovr", average="macro", labels=classes)
            if c.multiclass
            else skm.roc_auc_score(binary_truth, scores)
        ),
        "average_precision": lambda: (
            skm.average_precision_score(
                label_binarize(truth, classes=classes), scores, average="macro"
            )
            if c.multiclass
            else skm.average_precision_score(binary_truth, scores)
        ),
        "log_loss": lambda: skm.log_loss(binary_truth, scores, labels=binary_classes),
    }


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
    wanted = check_names(names, CLASSIFICATION_METRICS, "classification")
    checked = _classified(y_true, y_pred, y_score, wanted, positive_label, labels)
    computations = _classification_computations(checked)
    result: dict[str, Any] = {}
    for name in wanted:
        if name in _ALL_CLASSES_METRICS:
            checked.require_all_classes(name)
        result[name] = _compute(name, computations[name])
    truth = checked.truth
    result["support"] = {
        "test_rows": len(truth),
        "by_class": {str(label): int(np.sum(truth == label)) for label in checked.classes},
    }
    return result


def regression_metrics(
    y_true: ArrayLike, y_pred: ArrayLike, *, names: Sequence[str]
) -> dict[str, Any]:
    """Compute the named regression metrics plus the number of test rows.

    R² is reported as undefined (an error) for fewer than two rows or a constant
    ``y_true``, rather than scikit-learn's substitute values.
    """
    wanted = check_names(names, REGRESSION_METRICS, "regression")
    truth = as_finite_floats(y_true, "y_true")
    pred = as_finite_floats(y_pred, "y_pred")
    check_same_length(truth, pred, "y_true and y_pred")

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
