"""The metrics mergeml computes, and which way is better for each (no heavy imports).

The names live in the config layer so that parameters naming an unknown metric are
refused when they are composed, before anything is trained; the evaluation layer
re-exports them from :mod:`mergeml.evaluation.catalog`.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["CLASSIFICATION_METRICS", "METRIC_DIRECTION", "REGRESSION_METRICS"]

CLASSIFICATION_METRICS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "average_precision",
    "log_loss",
)
REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae", "r2")

METRIC_DIRECTION: dict[str, Literal["higher", "lower"]] = {
    "accuracy": "higher",
    "balanced_accuracy": "higher",
    "precision": "higher",
    "recall": "higher",
    "f1": "higher",
    "roc_auc": "higher",
    "average_precision": "higher",
    "log_loss": "lower",
    "rmse": "lower",
    "mae": "lower",
    "r2": "higher",
}
