"""Input checks shared by the metrics and the plot tables: each failure is an EvaluationError."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from mergeml.errors import EvaluationError, one_line

MAX_REASON = 300  # characters of a scikit-learn message kept in the one error line
MAX_LISTED = 5  # labels named in a message; the rest are counted


def brief(message: object) -> str:
    """``message`` on one line, cut to ``MAX_REASON`` characters (scikit-learn's messages
    can list every label: kilobytes)."""
    text = one_line(str(message))
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def listed(values: Sequence[Any]) -> str:
    """``[a, b, c, ... (12 more)]``: at most ``MAX_LISTED`` labels, each clipped."""
    items = [brief(repr(v))[:40] for v in list(values)[:MAX_LISTED]]
    more = len(values) - MAX_LISTED
    return "[" + ", ".join(items) + (f", ... ({more} more)" if more > 0 else "") + "]"


def check_names(names: Sequence[str], valid: tuple[str, ...], kind: str) -> list[str]:
    """Return ``names`` as a list, or fail on the first name not in ``valid``."""
    if isinstance(names, str):
        names = [names]
    for name in names:
        if name not in valid:
            raise EvaluationError(
                f"unknown {kind} metric {name!r}; valid metrics: {', '.join(valid)}"
            )
    return list(names)


def as_1d(values: ArrayLike, what: str) -> np.ndarray:
    """Return ``values`` as a non-empty 1-D array."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise EvaluationError(f"{what} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise EvaluationError(f"{what} is empty: there are no test rows to evaluate")
    return array


def as_finite_floats(values: ArrayLike, what: str, *, ndim: int = 1) -> np.ndarray:
    """Return ``values`` as a float array of ``ndim`` dimensions with no NaN or infinity."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(f"{what} must be numeric: {brief(exc)}") from exc
    if array.ndim != ndim:
        raise EvaluationError(f"{what} must be {ndim}-D, got shape {array.shape}")
    if array.size == 0:
        raise EvaluationError(f"{what} is empty: there are no test rows to evaluate")
    if not np.isfinite(array).all():
        raise EvaluationError(f"{what} contains NaN or infinity")
    return array


def check_finite_labels(labels: np.ndarray, what: str) -> None:
    """Fail if numeric class labels contain NaN or infinity."""
    if labels.dtype.kind in "fc" and not np.isfinite(labels).all():
        raise EvaluationError(f"{what} contains NaN or infinity")


def check_same_length(first: np.ndarray, second: np.ndarray, names: str) -> None:
    """Fail unless both arrays describe the same number of test rows."""
    if len(first) != len(second):
        raise EvaluationError(f"{names} have different lengths: {len(first)} and {len(second)}")


def label_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_pred)`` as non-empty 1-D arrays of the same length."""
    truth = as_1d(y_true, "y_true")
    pred = as_1d(y_pred, "y_pred")
    check_same_length(truth, pred, "y_true and y_pred")
    return truth, pred


def class_list(truth: np.ndarray, pred: np.ndarray, labels: Sequence[Any] | None) -> list[Any]:
    """Return the class labels in score-column order; default: sorted labels seen."""
    if labels is None:
        return np.unique(np.concatenate([truth, pred])).tolist()
    classes = np.asarray(labels).tolist()
    for what, values in (("y_true", truth), ("y_pred", pred)):
        unknown = np.unique(values[~np.isin(values, classes)]).tolist()
        if unknown:
            raise EvaluationError(
                f"{what} contains labels {listed(unknown)} not in the {len(classes)} "
                f"labels {listed(classes)}"
            )
    return classes


def check_positive_label(positive_label: Any, classes: list[Any]) -> None:
    """Fail unless ``positive_label`` is one of ``classes``."""
    if positive_label not in classes:
        raise EvaluationError(
            f"positive_label {brief(repr(positive_label))} is not one of {listed(classes)}"
        )


def check_max_points(max_points: int) -> None:
    """Fail unless ``max_points`` can keep both endpoints of a curve."""
    if max_points < 2:
        raise EvaluationError(f"max_points must be at least 2, got {max_points}")
