"""Build one scikit-learn Pipeline (preprocessing + estimator) from `_target_` configs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mergeml.config.estimators import make_step

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from mergeml.config.schema import StepConfig


def build_pipeline(
    model: StepConfig,
    numeric_steps: Sequence[StepConfig],
    categorical_steps: Sequence[StepConfig],
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
) -> Pipeline:
    """One Pipeline: a ColumnTransformer over the given columns, then the estimator."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline, make_pipeline

    def branch(steps: Sequence[StepConfig], group: str) -> Any:
        if not steps:
            return "passthrough"
        made = [make_step(s, f"preprocess.{group}[{i}]") for i, s in enumerate(steps)]
        return make_pipeline(*made)

    transformers = []
    if numeric:
        transformers.append(("numeric", branch(numeric_steps, "numeric"), list(numeric)))
    if categorical:
        transformers.append(
            ("categorical", branch(categorical_steps, "categorical"), list(categorical))
        )
    preprocess = ColumnTransformer(transformers, remainder="drop")
    return Pipeline([("preprocess", preprocess), ("estimator", make_step(model, "model"))])
