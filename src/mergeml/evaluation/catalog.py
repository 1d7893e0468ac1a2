"""The metrics mergeml computes, and which way is better for each (no heavy imports).

The names are defined in :mod:`mergeml.config.metric_names`, low enough for parameter
validation to refuse an unknown name at composition; this module is where the
evaluation code and the layers above it import them from.
"""

from __future__ import annotations

from mergeml.config.metric_names import (
    CLASSIFICATION_METRICS,
    METRIC_DIRECTION,
    REGRESSION_METRICS,
)

__all__ = ["CLASSIFICATION_METRICS", "METRIC_DIRECTION", "REGRESSION_METRICS"]
