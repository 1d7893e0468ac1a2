"""Reading one side of the comparison: parameters, metrics and gate rules.

Nothing here raises on a missing or malformed file (it reads as None or empty), except
`gate_rules`, whose `MergemlError` the report shows as a finding.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import yaml

from mergeml.config.compose import flatten
from mergeml.config.schema import GatesConfig
from mergeml.errors import MergemlError
from mergeml.markdown import number
from mergeml.project import Side
from mergeml.review.gates import parse_metrics
from mergeml.yamlread import parse_yaml

RawMetrics = tuple[dict[str, Any] | None, dict[str, Any] | None]  # (base, head) metrics objects


def yaml_doc(text: str | None, where: str = "YAML") -> Any:
    """The YAML document in ``text``, or None when absent or not YAML.

    A document beyond the bounds of `mergeml.yamlread` (an alias bomb) is an error.
    """
    if text is None:
        return None
    try:
        return parse_yaml(text, where)
    except yaml.YAMLError:
        return None


def json_doc(text: str | None) -> Any:
    """The JSON document in ``text``, or None when absent or not JSON."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None


def finite(value: object) -> float | None:
    """``value`` as a float when it is a finite JSON number, else None."""
    found = number(value)
    return found if found is not None and math.isfinite(found) else None


def flat_params(text: str | None, where: str = "params") -> dict[str, Any]:
    """A params file as ``{dotted.key: value}`` (empty when absent or not a mapping)."""
    doc = yaml_doc(text, where)
    return dict(flatten(doc)) if isinstance(doc, Mapping) and doc else {}


def read_metrics(side: Side, path: str) -> dict[str, Any] | None:
    """The metrics object of ``path`` at ``side``, or None when missing or unusable."""
    try:
        return parse_metrics(side.read(path), f"{path} at {side.short}")
    except MergemlError:
        return None


def numeric_metrics(metrics: Mapping[str, Any] | None) -> dict[str, float]:
    """Top-level numeric metrics (nested objects such as ``support`` are left out)."""
    found = {str(k): number(v) for k, v in (metrics or {}).items()}
    return {k: v for k, v in found.items() if v is not None}


def gate_rules(side: Side) -> GatesConfig:
    """The ``evaluate.gates`` of params.yaml at ``side`` (one reader: the project's)."""
    from mergeml.project import gate_rules as project_gate_rules

    return project_gate_rules(side)
