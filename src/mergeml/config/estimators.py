"""`_target_` steps into scikit-learn estimators, checked with scikit-learn's own rules.

This is where configuration becomes objects: the model layer builds its Pipeline from
these steps, and `mergeml params compose/check` validates them before anything runs.
Every `_target_` of a step, at any depth, is first checked against the allow-list
(:mod:`mergeml.config.targets`) without importing anything; the objects are then built
here, class by class, not by Hydra's `instantiate` (which would also call functions,
take positional `_args_` and resolve interpolations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mergeml.config.targets import DEFAULT_TARGETS, TARGET_KEY, check_targets
from mergeml.errors import ConfigError

if TYPE_CHECKING:
    from mergeml.config.schema import Params, StepConfig


def _find(target: str) -> object:
    """Import the module part of ``target`` (outermost first) and look up the rest."""
    from importlib import import_module
    from types import ModuleType

    parts = target.split(".")
    obj: object = import_module(parts[0])
    for i, part in enumerate(parts[1:], start=2):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            if not isinstance(obj, ModuleType):
                raise
            obj = import_module(".".join(parts[:i]))
    return obj


def _locate(target: str, where: str) -> type:
    """The class ``target`` names; it must be defined in the package its name starts with.

    The name passed the allow-list, but a module may hold what it imported: the class
    must come from the allowed package itself (`sklearn.base.np.memmap` is numpy's).
    """
    try:
        cls = _find(target)
    except Exception as exc:  # ImportError, AttributeError, or the module's own error
        raise ConfigError(f"{where}: cannot import '{target}'") from exc
    if not isinstance(cls, type):
        raise ConfigError(f"{where}: '{target}' is not a class")
    package = target.split(".", 1)[0]
    if str(getattr(cls, "__module__", "")).split(".", 1)[0] != package:
        raise ConfigError(f"{where}: '{target}' is not a class of the package '{package}'")
    return cls


def _arguments(cls: type) -> set[str] | None:
    """The names ``cls`` takes as keyword arguments; None when it takes any (``**kwargs``)."""
    import inspect

    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {p.name for p in parameters if p.kind in named}


def _construct(cls: type, kwargs: Mapping[str, Any], where: str) -> Any:
    """``cls(**kwargs)`` after checking the names; scikit-learn's constraints applied."""
    names = _arguments(cls)
    for key in kwargs:
        if names is not None and key not in names:
            raise ConfigError(f"{where}.{key}: not an argument of {cls.__name__}")
    obj = cls(**kwargs)
    validate = getattr(obj, "_validate_params", None)
    if validate is not None:
        validate()
    return obj


def _build(node: Any, where: str) -> Any:
    """Plain data with every `_target_` mapping replaced by its object (innermost first)."""
    if isinstance(node, Mapping):
        built = {k: _build(v, f"{where}.{k}") for k, v in node.items() if k != TARGET_KEY}
        if TARGET_KEY not in node:
            return built
        return _construct(_locate(str(node[TARGET_KEY]), f"{where}.{TARGET_KEY}"), built, where)
    if isinstance(node, list | tuple):
        return [_build(v, f"{where}[{i}]") for i, v in enumerate(node)]
    return node


def _instantiate(cls: type, conf: Mapping[str, Any], where: str) -> Any:
    """``cls`` with the arguments of ``conf``, nested `_target_` objects built first."""
    return _construct(cls, {k: _build(v, f"{where}.{k}") for k, v in conf.items()}, where)


def _blame(cls: type, conf: Mapping[str, Any], where: str) -> str:
    """The key whose value alone is refused (with the defaults for the rest), else the step."""
    refused = (TypeError, ValueError)
    try:
        _instantiate(cls, {}, where)
    except refused:  # a required argument: no key can be tried alone
        return where
    for key, value in conf.items():
        try:
            _instantiate(cls, {key: value}, where)
        except refused:
            return f"{where}.{key}"
    return where


def check_steps(
    steps: Sequence[tuple[StepConfig | Mapping[str, Any], str]], targets: Sequence[str]
) -> None:
    """Check every `_target_` of every (step, where) against ``targets``; nothing imported."""
    for step, where in steps:
        check_targets(_as_dict(step), where, targets)


def _as_dict(step: StepConfig | Mapping[str, Any]) -> dict[str, Any]:
    return dict(step.model_dump(by_alias=True) if hasattr(step, "model_dump") else step)


def make_step(
    step: StepConfig | Mapping[str, Any], where: str, *, targets: Sequence[str] = DEFAULT_TARGETS
) -> Any:
    """Instantiate one `_target_` step and validate its arguments the way scikit-learn does.

    Every `_target_` in the step is checked against ``targets`` before anything is
    imported. When the arguments are refused, each is tried alone (with the defaults for
    the rest) to name the key at fault; a combination that fails only together names the
    step.
    """
    from sklearn.base import BaseEstimator

    conf = _as_dict(step)
    check_targets(conf, where, targets)
    target = str(conf.pop(TARGET_KEY))
    cls = _locate(target, f"{where}.{TARGET_KEY}")
    if not issubclass(cls, BaseEstimator):
        raise ConfigError(f"{where}._target_: '{target}' is not a scikit-learn estimator")
    names = _arguments(cls)
    for key in conf:
        if names is not None and key not in names:
            raise ConfigError(f"{where}.{key}: not an argument of {cls.__name__}")
    try:
        return _instantiate(cls, conf, where)
    except (TypeError, ValueError) as exc:
        at = _blame(cls, conf, where)
        raise ConfigError(f"{at}: {' '.join(str(exc).split())}") from exc


def validate_steps(params: Params, *, targets: Sequence[str] = DEFAULT_TARGETS) -> None:
    """Check every step in params (model and preprocessing) and the model's task.

    Every `_target_` of every step is checked against ``targets`` before any is built.
    """
    from sklearn.base import is_classifier, is_regressor

    steps = [
        (step, f"preprocess.{group}[{i}]")
        for group in ("numeric", "categorical")
        for i, step in enumerate(getattr(params.preprocess, group))
    ]
    check_steps([*steps, (params.model, "model")], targets)
    for step, where in steps:
        make_step(step, where, targets=targets)
    model = make_step(params.model, "model", targets=targets)
    check_task(model, params.data.task, is_classifier(model), is_regressor(model))


def check_task(model: Any, task: str, classifier: bool, regressor: bool) -> None:
    """A classifier for classification data, a regressor for regression data."""
    name = type(model).__name__
    if task == "classification" and not classifier:
        raise ConfigError(f"model: {name} is not a classifier but data.task is classification")
    if task == "regression" and not regressor:
        raise ConfigError(f"model: {name} is not a regressor but data.task is regression")
