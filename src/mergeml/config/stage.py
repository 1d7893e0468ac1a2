"""Per-stage parameter views: a stage can only read the keys dvc.yaml declares for it.

DVC reruns a stage only when a declared key changes, so a key read but not declared
would leave a stale model that DVC reports as up to date (SECURITY C4). Building each
stage's view from its own declaration makes that mistake impossible.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from mergeml.config.dvcyaml import artifact_name, artifact_path, metrics_in
from mergeml.config.paramfiles import load_yaml
from mergeml.config.schema import parse_section
from mergeml.errors import ConfigError

__all__ = [
    "artifact_name",
    "artifact_path",
    "declared_keys",
    "declared_metrics",
    "load_stage_params",
    "metrics_in",
    "view",
]

M = TypeVar("M", bound=BaseModel)
PARAMS_FILE = "params.yaml"


def declared_keys(dvc_yaml: Path, stage: str) -> list[str]:
    """The params.yaml keys that ``stage`` declares in dvc.yaml."""
    doc = load_yaml(dvc_yaml)
    try:
        entries = doc["stages"][stage].get("params", [])
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{dvc_yaml}: no stage '{stage}'") from exc
    keys: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            keys.append(entry)
        elif isinstance(entry, Mapping) and PARAMS_FILE in entry:
            keys.extend(entry[PARAMS_FILE])
    return keys


def view(params: Mapping[str, Any], keys: list[str], *, where: str) -> dict[str, Any]:
    """A nested copy of ``params`` holding only ``keys`` (dotted paths)."""
    out: dict[str, Any] = {}
    for key in keys:
        node: Any = params
        parts = key.split(".")
        for part in parts:
            if not isinstance(node, Mapping) or part not in node:
                raise ConfigError(f"{where}: declared key '{key}' is missing")
            node = node[part]
        slot = out
        for part in parts[:-1]:
            slot = slot.setdefault(part, {})
        slot[parts[-1]] = node
    return out


def load_stage_params(stage: str, model: type[M], root: Path = Path()) -> M:
    """Read params.yaml, keep what ``stage`` declares, validate it into ``model``."""
    keys = declared_keys(root / "dvc.yaml", stage)
    params = load_yaml(root / PARAMS_FILE)
    if not isinstance(params, Mapping):
        raise ConfigError(f"{root / PARAMS_FILE} does not hold a mapping")
    return parse_section(model, view(params, keys, where=PARAMS_FILE), where=PARAMS_FILE)


def declared_metrics(dvc_yaml: Path) -> list[str]:
    """Metrics files dvc.yaml declares (stage `metrics:` outputs and top-level `metrics:`)."""
    return metrics_in(load_yaml(dvc_yaml))
