"""The evaluation API in one import, for the `evaluate` stage, benchmarks and tests.

The code lives by concern: :mod:`~mergeml.evaluation.checks` (input checks),
:mod:`~mergeml.evaluation.scores` (metric values), :mod:`~mergeml.evaluation.plots`
(DVC plot tables), :mod:`~mergeml.evaluation.evaluate` (a fitted estimator on a test
set) and :mod:`~mergeml.evaluation.reports` (writing metrics.json and the plots).
"""

from __future__ import annotations

from mergeml.evaluation.catalog import CLASSIFICATION_METRICS, REGRESSION_METRICS
from mergeml.evaluation.evaluate import EvaluationResult, evaluate_classifier, evaluate_regressor
from mergeml.evaluation.plots import (
    confusion_counts,
    confusion_rows,
    pr_points,
    prediction_points,
    residual_points,
    roc_points,
)
from mergeml.evaluation.reports import write_reports
from mergeml.evaluation.scores import classification_metrics, regression_metrics

__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "EvaluationResult",
    "classification_metrics",
    "confusion_counts",
    "confusion_rows",
    "evaluate_classifier",
    "evaluate_regressor",
    "pr_points",
    "prediction_points",
    "regression_metrics",
    "residual_points",
    "roc_points",
    "write_reports",
]
