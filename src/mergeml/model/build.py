"""Build one scikit-learn Pipeline (preprocessing + estimator) from `_target_` configs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mergeml.errors import ConfigError

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from mergeml.config.schema import Params, StepConfig


def _locate(target: str, where: str) -> type:
    from hydra.utils import get_class

    try:
        return get_class(target)
    except Exception as exc:  # Hydra raises ImportError or ValueError variants
        raise ConfigError(f"{where}._target_: cannot import '{target}'") from exc


def make_step(step: StepConfig | Mapping[str, Any], where: str) -> Any:
    """Instantiate one `_target_` step and validate its arguments the way scikit-learn does."""
    from sklearn.base import BaseEstimator

    conf = dict(step.model_dump(by_alias=True) if hasattr(step, "model_dump") else step)
    target = str(conf.pop("_target_"))
    cls = _locate(target, where)
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)):
        raise ConfigError(f"{where}._target_: '{target}' is not a scikit-learn estimator")
    allowed = set(cls().get_params(deep=False))
    for key in conf:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}: not an argument of {cls.__name__}")
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    try:
        obj = instantiate({"_target_": target, **conf}, _convert_="all")
        validate = getattr(obj, "_validate_params", None)
        if validate is not None:
            validate()  # scikit-learn's own parameter constraints
    except (TypeError, ValueError, InstantiationException) as exc:
        reason = exc.__cause__ or exc
        key = next((k for k in conf if f"'{k}'" in str(reason)), None)
        at = f"{where}.{key}" if key else where
        raise ConfigError(f"{at}: {' '.join(str(reason).split())}") from exc
    return obj


def validate_steps(params: Params) -> None:
    """Check every step in params (model and preprocessing) and the model's task."""
    from sklearn.base import is_classifier, is_regressor

    for group in ("numeric", "categorical"):
        for i, step in enumerate(getattr(params.preprocess, group)):
            make_step(step, f"preprocess.{group}[{i}]")
    model = make_step(params.model, "model")
    check_task(model, params.data.task, is_classifier(model), is_regressor(model))


def check_task(model: Any, task: str, classifier: bool, regressor: bool) -> None:
    """A classifier for classification data, a regressor for regression data."""
    name = type(model).__name__
    if task == "classification" and not classifier:
        raise ConfigError(f"model: {name} is not a classifier but data.task is classification")
    if task == "regression" and not regressor:
        raise ConfigError(f"model: {name} is not a regressor but data.task is regression")


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
