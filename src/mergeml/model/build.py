"""Build one scikit-learn Pipeline (preprocessing + estimator) from `_target_` configs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mergeml.config.estimators import check_steps, make_step
from mergeml.config.targets import DEFAULT_TARGETS

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
    targets: Sequence[str] = DEFAULT_TARGETS,
) -> Pipeline:
    """One Pipeline: a ColumnTransformer over the given columns, then the estimator.

    Every `_target_` of every step is checked against ``targets`` (the allow-list)
    before any step is imported or built.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline, make_pipeline

    check_steps(
        [
            *((s, f"preprocess.numeric[{i}]") for i, s in enumerate(numeric_steps)),
            *((s, f"preprocess.categorical[{i}]") for i, s in enumerate(categorical_steps)),
            (model, "model"),
        ],
        targets,
    )

    def branch(steps: Sequence[StepConfig], group: str) -> Any:
        if not steps:
            return "passthrough"
        made = [
            make_step(s, f"preprocess.{group}[{i}]", targets=targets) for i, s in enumerate(steps)
        ]
        return make_pipeline(*made)

    transformers = []
    if numeric:
        transformers.append(("numeric", branch(numeric_steps, "numeric"), list(numeric)))
    if categorical:
        transformers.append(
            ("categorical", branch(categorical_steps, "categorical"), list(categorical))
        )
    preprocess = ColumnTransformer(transformers, remainder="drop")
    estimator = make_step(model, "model", targets=targets)
    return Pipeline([("preprocess", preprocess), ("estimator", estimator)])
