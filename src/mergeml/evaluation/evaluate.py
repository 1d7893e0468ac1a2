"""Evaluate a fitted scikit-learn estimator on a test set: metrics and plot tables.

Arrays go in; plain Python dicts and lists come out, so every result can be written
with :func:`~mergeml.files.dumps_json` and reviewed as a diff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.preprocessing import label_binarize

from mergeml.errors import EvaluationError
from mergeml.evaluation.checks import as_1d, brief, check_positive_label
from mergeml.evaluation.plots import (
    confusion_rows,
    pr_points,
    prediction_points,
    residual_points,
    roc_points,
)
from mergeml.evaluation.scores import classification_metrics, regression_metrics

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics (``{name: float, "support": {...}}``) and plot tables keyed by plot name."""

    metrics: dict[str, Any]
    plots: dict[str, list[dict[str, Any]]]


def _fitted_classes(model: Any) -> list[Any]:
    """The classes of a fitted classifier with ``predict_proba``, or EvaluationError."""
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
    return classes


def _predicted(predict: Callable[[Any], Any], X: Any, model: Any) -> Any:
    """``predict(X)``; scikit-learn's complaint about the test split as one short line."""
    try:
        return predict(X)
    except ValueError as exc:
        raise EvaluationError(
            f"{type(model).__name__} cannot predict the test split: {brief(exc)}"
        ) from exc


def _curve_inputs(
    truth: np.ndarray, proba: np.ndarray, classes: list[Any], positive_label: Any
) -> tuple[Any, np.ndarray, np.ndarray]:
    """``(positive label, truth, score)`` for the ROC and precision-recall tables.

    Two classes: the positive column. More: micro-averaged one-vs-rest, so the plot
    schema does not change.
    """
    if len(classes) == 2:
        positive = classes[1] if positive_label is None else positive_label
        check_positive_label(positive, classes)
        return positive, truth, proba[:, classes.index(positive)]
    return 1, label_binarize(truth, classes=classes).ravel(), proba.ravel()


def evaluate_classifier(
    model: Any, X: Any, y: ArrayLike, *, names: Sequence[str], positive_label: Any = None
) -> EvaluationResult:
    """Evaluate a fitted classifier that has ``predict_proba``.

    ``positive_label`` defaults to ``model.classes_[1]`` for two classes. With
    more classes the ROC and precision-recall tables are micro-averaged
    one-vs-rest curves, so the plot schema does not change.
    """
    classes = _fitted_classes(model)
    truth = as_1d(y, "y")
    proba = np.asarray(_predicted(model.predict_proba, X, model))
    # The most probable class is what predict() returns for these estimators; deriving
    # it here spares a second pass through the preprocessing.
    pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    pred = pred.astype(np.asarray(classes).dtype)
    positive, curve_truth, curve_score = _curve_inputs(truth, proba, classes, positive_label)
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
    pred = np.asarray(_predicted(model.predict, X, model))
    metrics = regression_metrics(y, pred, names=names)
    plots: dict[str, list[dict[str, Any]]] = {
        "predictions": prediction_points(y, pred),
        "residuals": residual_points(y, pred),
    }
    logger.debug("regressor metrics: %s", metrics)
    return EvaluationResult(metrics=metrics, plots=plots)
