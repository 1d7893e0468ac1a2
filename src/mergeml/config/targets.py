"""The `_target_` allow-list: which classes a parameter file may name.

Parameter files are data. A `_target_` is a dotted name that mergeml imports and calls,
so every one of them, at any depth (an ``estimator:`` under a meta-estimator, the steps
of a list), is checked against a list of allowed prefixes before anything is imported.
The default allows scikit-learn and mergeml itself; a repository extends it with
``[tool.mergeml.params] targets`` in pyproject.toml, read from the reviewed branch by
:func:`mergeml.project.allowed_targets` (this layer reads no git).

Hydra's other special keys (``_args_``, ``_partial_``, ``_recursive_``, ``_convert_``) are
refused here: a partial or positional call is not what a parameter file describes.
Nothing in this module imports what it checks.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence

from mergeml.errors import ConfigError

DEFAULT_TARGETS: tuple[str, ...] = ("sklearn.", "mergeml.")
TARGET_KEY = "_target_"
EXTEND_HINT = "extend [tool.mergeml.params] targets in pyproject.toml on main"
# A dotted name of at least two public identifiers: `package.Class`, `package.module.Class`.
_DOTTED = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+")
# A prefix: one or more public identifiers, ending with "." for a package and its modules.
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*\.?")


def is_allowed(target: str, prefixes: Sequence[str]) -> bool:
    """Whether ``target`` is under one of ``prefixes``, compared by whole dotted names.

    ``"sklearn."`` allows ``sklearn.ensemble.BaggingClassifier`` (not ``sklearnx.Foo``);
    a prefix without the final dot allows that name and what is under it.
    """
    for prefix in prefixes:
        package = prefix if prefix.endswith(".") else f"{prefix}."
        if target == prefix or target.startswith(package):
            return True
    return False


def _refuse_target(value: object, where: str, prefixes: Sequence[str]) -> None:
    shown = ", ".join(prefixes)
    if not isinstance(value, str) or not _DOTTED.fullmatch(value):
        raise ConfigError(
            f"{where}: {value!r} is not a dotted name of a public class (e.g. "
            "sklearn.ensemble.RandomForestClassifier)"
        )
    if not is_allowed(value, prefixes):
        raise ConfigError(f"{where}: '{value}' is not allowed (allowed: {shown}; {EXTEND_HINT})")


def check_targets(node: object, where: str, prefixes: Sequence[str]) -> None:
    """ConfigError naming the key path of the first `_target_` (at any depth) not allowed.

    Hydra's other special keys are refused wherever they occur: mergeml builds the
    objects itself (:mod:`mergeml.config.estimators`) and calls classes with named
    arguments only.
    """
    if isinstance(node, Mapping):
        if TARGET_KEY in node:  # the callable first: it is what the error must name
            _refuse_target(node[TARGET_KEY], f"{where}.{TARGET_KEY}", prefixes)
        for key, value in node.items():
            path = f"{where}.{key}"
            if key == TARGET_KEY:
                continue
            if isinstance(key, str) and key.startswith("_") and key.endswith("_"):
                raise ConfigError(
                    f"{path}: Hydra's special keys other than _target_ are not allowed in"
                    " parameters (give every argument by name)"
                )
            check_targets(value, path, prefixes)
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            check_targets(value, f"{where}[{i}]", prefixes)


def parse_targets(text: str | None, where: str) -> tuple[str, ...]:
    """The allowed prefixes: the defaults plus ``[tool.mergeml.params] targets`` of ``text``.

    ``text`` is a pyproject.toml (None when absent); ``where`` names it in errors.
    """
    if not text:
        return DEFAULT_TARGETS
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    section = doc.get("tool", {}).get("mergeml", {}).get("params", {})
    extra = section.get("targets", []) if isinstance(section, Mapping) else None
    key = f"{where}: tool.mergeml.params.targets"
    if not isinstance(extra, list):
        raise ConfigError(f'{key}: must be a list of prefixes, e.g. ["xgboost."]')
    for item in extra:
        if not isinstance(item, str) or not _PREFIX.fullmatch(item):
            raise ConfigError(
                f'{key}: {item!r} is not a dotted prefix (e.g. "xgboost." for a package)'
            )
    return DEFAULT_TARGETS + tuple(p for p in extra if p not in DEFAULT_TARGETS)
