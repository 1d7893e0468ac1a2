"""`_target_` steps into scikit-learn estimators, checked with scikit-learn's own rules.

This is where configuration becomes objects: the model layer builds its Pipeline from
these steps, and `mergeml params compose/check` validates them before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mergeml.errors import ConfigError

if TYPE_CHECKING:
    from mergeml.config.schema import Params, StepConfig


def _locate(target: str, where: str) -> type:
    from hydra.utils import get_class

    try:
        return get_class(target)
    except Exception as exc:  # Hydra raises ImportError or ValueError variants
        raise ConfigError(f"{where}._target_: cannot import '{target}'") from exc


def _instantiate(target: str, conf: Mapping[str, Any]) -> Any:
    """Instantiate and apply scikit-learn's parameter constraints (raises their errors)."""
    from hydra.utils import instantiate

    obj = instantiate({"_target_": target, **conf}, _convert_="all")
    validate = getattr(obj, "_validate_params", None)
    if validate is not None:
        validate()
    return obj


def make_step(step: StepConfig | Mapping[str, Any], where: str) -> Any:
    """Instantiate one `_target_` step and validate its arguments the way scikit-learn does.

    When the arguments are refused, each is tried alone (with the defaults for the rest)
    to name the key at fault; a combination that fails only together names the step.
    """
    from hydra.errors import InstantiationException
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
    refused = (TypeError, ValueError, InstantiationException)
    try:
        return _instantiate(target, conf)
    except refused as exc:
        reason = exc.__cause__ or exc
        at = where
        for key, value in conf.items():
            try:
                _instantiate(target, {key: value})
            except refused:
                at = f"{where}.{key}"
                break
        raise ConfigError(f"{at}: {' '.join(str(reason).split())}") from exc


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
