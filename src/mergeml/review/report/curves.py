"""Curves on a common grid (ROC, precision-recall, predicted vs actual) and confusion matrices.

Read from the DVC plot files of each side; a missing or malformed file gives no curve.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Mapping
from statistics import fmean

from mergeml.project import Side
from mergeml.review.report.model import Confusion, Curve, Matrix, Series
from mergeml.review.report.read import finite, json_doc

GRID = tuple(i / 20 for i in range(21))
MAX_CLASSES = 20
ROC_FILE = "reports/plots/roc.json"
PR_FILE = "reports/plots/precision_recall.json"
PREDICTIONS_FILE = "reports/plots/predictions.json"
CONFUSION_FILE = "reports/plots/confusion.csv"

Points = list[tuple[float, float]]


def curve_points(text: str | None, x: str, y: str) -> Points:
    """Finite (x, y) pairs of a DVC plot table (a JSON list of objects), sorted by x."""
    doc = json_doc(text)
    points = []
    for row in doc if isinstance(doc, list) else []:
        if isinstance(row, Mapping):
            px, py = finite(row.get(x)), finite(row.get(y))
            if px is not None and py is not None:
                points.append((px, py))
    return sorted(points)


def roc_on_grid(points: Points, grid: tuple[float, ...] = GRID) -> list[float]:
    """Step interpolation: the best true-positive rate reachable at each false-positive rate."""
    return [round(max((t for f, t in points if f <= x + 1e-12), default=0.0), 3) for x in grid]


def pr_on_grid(points: Points, grid: tuple[float, ...] = GRID) -> list[float]:
    """Interpolated precision: the best precision at recall >= each grid point."""
    return [round(max((p for r, p in points if r >= x - 1e-12), default=0.0), 3) for x in grid]


def binned_predictions(points: Points, bins: int = 20) -> tuple[list[float], list[float]]:
    """Mean actual and mean predicted in ``bins`` equal-count bins of the actual value."""
    n = len(points)
    k = min(bins, n)
    chunks = [points[i * n // k : (i + 1) * n // k] for i in range(k)]
    actual = [round(fmean(a for a, _ in chunk), 3) for chunk in chunks if chunk]
    predicted = [round(fmean(p for _, p in chunk), 3) for chunk in chunks if chunk]
    return actual, predicted


def _curve(
    title: str, labels: tuple[str, str], grid: list[float], series: list[tuple[str, list[float]]]
) -> Curve:
    lines = tuple(Series(name, tuple(ys)) for name, ys in series)
    return Curve(title, labels[0], labels[1], tuple(grid), lines)


# title, plot file, (x, y) columns, axis labels, interpolation on the grid
_CLASSIFIER_PLOTS: tuple[
    tuple[str, str, tuple[str, str], tuple[str, str], Callable[[Points], list[float]]], ...
] = (
    ("ROC", ROC_FILE, ("fpr", "tpr"), ("False positive rate", "True positive rate"), roc_on_grid),
    ("Precision-recall", PR_FILE, ("recall", "precision"), ("Recall", "Precision"), pr_on_grid),
)


def _classifier_curves(base: Side, head: Side) -> list[Curve]:
    curves = []
    for title, path, (x, y), labels, on_grid in _CLASSIFIER_PLOTS:
        series = []
        for name, side in (("base", base), ("head", head)):
            points = curve_points(side.read(path), x, y)
            if points:
                series.append((name, on_grid(points)))
        if series:
            curves.append(_curve(f"{title}: base vs head", labels, list(GRID), series))
    return curves


def _regression_curves(base: Side, head: Side) -> list[Curve]:
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


def curves_section(base: Side, head: Side) -> tuple[Curve, ...]:
    """ROC and precision-recall for a classifier; predicted vs actual for a regressor."""
    return tuple(_classifier_curves(base, head) or _regression_curves(base, head))


# --- confusion matrices -------------------------------------------------------------------------


def _label_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def confusion_matrix(text: str | None) -> Matrix | None:
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
    if not labels:
        return None
    if len(labels) > MAX_CLASSES:
        return Matrix((), (), len(labels))
    matrix = tuple(tuple(pairs[(a, p)] for p in labels) for a in labels)
    return Matrix(tuple(labels), matrix, len(labels))


def confusion_section(base: Side, head: Side) -> Confusion:
    """The confusion matrix of each side (None where it has none)."""
    return Confusion(
        confusion_matrix(base.read(CONFUSION_FILE)), confusion_matrix(head.read(CONFUSION_FILE))
    )
