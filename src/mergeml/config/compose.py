"""Compose params/ (Hydra) into params.yaml, and check that params.yaml is current."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mergeml.config.paramfiles import check_override_value, check_params_tree, load_yaml
from mergeml.config.schema import Params, parse_params
from mergeml.config.targets import DEFAULT_TARGETS
from mergeml.errors import ConfigError, StaleParamsError, UsageError
from mergeml.files import write_text_atomic

log = logging.getLogger(__name__)

CONFIG_NAME = "config"
HEADER = (
    "# GENERATED from params/ by the `compose` stage (`mergeml params compose`).\n"
    "# Do not edit: change the files under params/ and run `dvc repro`.\n"
)


@dataclass(frozen=True)
class Override:
    """One parsed Hydra override, as mergeml accepts it."""

    text: str
    key: str
    value: str
    is_group: bool
    sweep: tuple[str, ...] = ()


def groups(params_dir: Path) -> dict[str, list[str]]:
    """Config groups under ``params_dir`` and their options (file stems)."""
    found: dict[str, list[str]] = {}
    for sub in sorted(p for p in params_dir.iterdir() if p.is_dir()):
        found[sub.name] = sorted(f.stem for f in sub.glob("*.yaml"))
    return found


def parse_overrides(
    texts: Sequence[str], params_dir: Path, *, allow_sweeps: bool = False
) -> list[Override]:
    """Parse Hydra overrides; refuse additions, deletions, unknown groups and bad syntax."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    known = groups(params_dir)
    parsed: list[Override] = []
    for text in texts:
        check_override_value(text)
        try:
            ovr = parser.parse_override(text)
        except HydraException as exc:
            raise ConfigError(f"malformed override '{text}': {exc}") from exc
        _refuse_unsupported(ovr, text)
        key = ovr.key_or_group
        sweep: tuple[str, ...] = ()
        if ovr.is_sweep_override():
            if not allow_sweeps:
                raise UsageError(f"override '{text}' is a sweep; sweeps run with `mergeml exp run`")
            sweep = tuple(ovr.sweep_string_iterator())
        values = sweep or (ovr.get_value_element_as_str(),)
        if key in known:
            _check_group_options(key, values, known[key], text)
        parsed.append(Override(text, key, values[0], key in known, sweep))
    return parsed


def _refuse_unsupported(ovr: Any, text: str) -> None:
    """ConfigError for the override forms mergeml refuses: `+`, `++`, `~` and `@`."""
    if ovr.is_add() or ovr.is_force_add():
        raise ConfigError(
            f"override '{text}' adds key '{ovr.key_or_group}': mergeml refuses '+'/'++'"
            " additions; declare the key in a file under params/ instead"
        )
    if ovr.is_delete():
        raise ConfigError(f"override '{text}' deletes a key: mergeml refuses '~' deletions")
    if ovr.package is not None:
        raise ConfigError(f"override '{text}': package overrides (@) are not supported")


def _check_group_options(group: str, choices: Sequence[str], options: list[str], text: str) -> None:
    """ConfigError unless every choice is an option of ``group`` (a file under params/) or null."""
    for choice in choices:
        if choice not in options and choice != "null":
            available = ", ".join(options) or "none"
            raise ConfigError(
                f"unknown option '{choice}' for group '{group}' in override '{text}'"
                f" (available in params/{group}/: {available})"
            )


def _hydra_compose(params_dir: Path, overrides: Sequence[str]) -> dict[str, Any]:
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

    if not (params_dir / f"{CONFIG_NAME}.yaml").is_file():
        raise ConfigError(f"{params_dir}/{CONFIG_NAME}.yaml not found")
    check_params_tree(params_dir)  # as data first: bounded, one-line errors, no resolvers
    try:
        with initialize_config_dir(str(params_dir.resolve()), version_base="1.3"):
            cfg = compose(config_name=CONFIG_NAME, overrides=list(overrides))
        data = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except MissingMandatoryValue as exc:
        key = exc.full_key or "?"
        raise ConfigError(
            f"missing value for '{key}' (it is ??? in params/); set it, e.g. {key}=..."
        ) from exc
    except HydraException as exc:
        raise ConfigError(_hydra_message(exc)) from exc
    except OmegaConfBaseException as exc:
        where = f" at '{exc.full_key}'" if getattr(exc, "full_key", None) else ""
        raise ConfigError(f"invalid parameters{where}: {exc.msg or exc}") from exc
    assert isinstance(data, dict)
    return {str(k): v for k, v in data.items()}


def _hydra_message(exc: Exception) -> str:
    cause = exc.__cause__
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if cause is not None and "not in struct" in str(cause):
        key = getattr(cause, "full_key", None) or text
        return f"unknown key '{key}': it is not declared in any file under params/"
    if cause is not None:
        return f"{text} {str(cause).splitlines()[0]}"
    return text


def compose_params(
    params_dir: Path,
    overrides: Sequence[str] = (),
    *,
    check_estimators: bool = True,
    targets: Sequence[str] = DEFAULT_TARGETS,
) -> dict[str, Any]:
    """Compose and validate; return the plain mapping that params.yaml will hold.

    ``check_estimators`` also validates every `_target_` with scikit-learn's own
    parameter constraints. The `compose` stage turns it off to spare the stage
    scikit-learn's import time; the `train` stage applies the same check at its
    boundary, and `mergeml params compose/check` and `mergeml exp run` always do.
    ``targets`` is the `_target_` allow-list (see :mod:`mergeml.config.targets`).
    """
    parse_overrides(overrides, params_dir)
    data = _hydra_compose(params_dir, overrides)
    params = parse_params(data, where="params")
    if check_estimators:
        check_model_params(params, targets)
    return data


def check_model_params(params: Params, targets: Sequence[str] = DEFAULT_TARGETS) -> None:
    """Validate every `_target_` and its arguments with scikit-learn's own constraints."""
    from mergeml.config.estimators import validate_steps

    validate_steps(params, targets=targets)


def dump_params(data: Mapping[str, Any]) -> str:
    """The exact text of params.yaml for ``data``."""
    return HEADER + yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False)


def compose_to_file(
    params_dir: Path,
    out: Path,
    overrides: Sequence[str] = (),
    *,
    check_estimators: bool = True,
    targets: Sequence[str] = DEFAULT_TARGETS,
) -> bool:
    """Compose into ``out``; return True when its content changed."""
    data = compose_params(params_dir, overrides, check_estimators=check_estimators, targets=targets)
    text = dump_params(data)
    if out.is_file() and out.read_text(encoding="utf-8") == text:
        return False
    write_text_atomic(out, text)
    return True


def flatten(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (dotted.key, leaf value) pairs."""
    if isinstance(data, Mapping) and data:
        for key, value in data.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, data


def diff_params(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two parameter mappings."""
    before, after = dict(flatten(old)), dict(flatten(new))
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            lines.append(f"- {key}: {before[key]!r} (not in params/)")
        elif key not in before:
            lines.append(f"+ {key}: {after[key]!r} (missing from params.yaml)")
        elif before[key] != after[key]:
            lines.append(f"~ {key}: {before[key]!r} -> {after[key]!r}")
    return lines


def check_params_file(
    params_dir: Path, params_file: Path, targets: Sequence[str] = DEFAULT_TARGETS
) -> list[str]:
    """Differences between ``params_file`` and a fresh composition (empty when current)."""
    expected = compose_params(params_dir, targets=targets)
    actual = load_yaml(params_file)
    if not isinstance(actual, Mapping):
        raise ConfigError(f"{params_file} does not hold a mapping")
    return diff_params(actual, expected)


def require_current(params_dir: Path, params_file: Path, lines: list[str] | None = None) -> None:
    """Raise StaleParamsError when params.yaml is not what params/ composes to.

    ``lines`` are the differences when the caller has already computed them.
    """
    lines = check_params_file(params_dir, params_file) if lines is None else lines
    if lines:
        raise StaleParamsError(
            f"{params_file} is stale ({len(lines)} difference(s)); run `dvc repro` "
            "(or `mergeml params compose`) and commit params.yaml"
        )
