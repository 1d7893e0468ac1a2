"""DVC plot tables: ROC and precision-recall curves, confusion rows, regression scatters.

Every table is a list of plain dicts (JSON-ready), downsampled to a bounded number of
rows so that it stays small in git.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn import metrics as skm

from mergeml.errors import EvaluationError
from mergeml.evaluation.checks import (
    as_1d,
    as_finite_floats,
    check_max_points,
    check_same_length,
    class_list,
    label_pair,
)


def _evenly_spaced(n_rows: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spaced rows, always the first and last."""
    check_max_points(max_points)
    if n_rows <= max_points:
        return np.arange(n_rows)
    return np.unique(np.rint(np.linspace(0, n_rows - 1, max_points)).astype(int))


def _binary_curve_inputs(
    y_true: ArrayLike, y_score: ArrayLike, positive_label: Any, curve: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return (0/1 truth, scores) for a curve, failing unless both classes are present."""
    truth = as_1d(y_true, "y_true")
    scores = as_finite_floats(y_score, "y_score")
    check_same_length(truth, scores, "y_true and y_score")
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
    truth, pred = label_pair(y_true, y_pred)
    return [
        {"actual": str(actual), "predicted": str(predicted)}
        for actual, predicted in zip(truth.tolist(), pred.tolist(), strict=True)
    ]


def confusion_counts(
    y_true: ArrayLike, y_pred: ArrayLike, *, labels: Sequence[Any] | None = None
) -> dict[str, dict[str, int]]:
    """Nested counts ``{actual: {predicted: n}}`` over every label, zeros included."""
    truth, pred = label_pair(y_true, y_pred)
    classes = class_list(truth, pred, labels)
    matrix = skm.confusion_matrix(truth, pred, labels=classes)
    return {
        str(actual): {str(predicted): int(matrix[i, j]) for j, predicted in enumerate(classes)}
        for i, actual in enumerate(classes)
    }


def _regression_sample(
    y_true: ArrayLike, y_pred: ArrayLike, max_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by actual value (stable), then evenly downsampled to ``max_points``."""
    truth = as_finite_floats(y_true, "y_true")
    pred = as_finite_floats(y_pred, "y_pred")
    check_same_length(truth, pred, "y_true and y_pred")
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
