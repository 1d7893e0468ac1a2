"""What a parsed dvc.yaml declares: metrics files and artifacts (plain data, no schema).

Light on purpose (no pydantic): the registry reads these for every version it lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def metrics_in(doc: Any) -> list[str]:
    """Metrics files declared in a parsed dvc.yaml document (tolerates malformed parts)."""
    if not isinstance(doc, Mapping):
        return []
    entries = list(doc.get("metrics") or [])
    stages = doc.get("stages")
    for stage in stages.values() if isinstance(stages, Mapping) else []:
        if isinstance(stage, Mapping):
            entries.extend(stage.get("metrics") or [])
    found: list[str] = []
    for entry in entries:
        name = str(next(iter(entry)) if isinstance(entry, Mapping) and entry else entry)
        if name not in found:
            found.append(name)
    return found


def artifact_name(doc: Any, default: str = "model") -> str:
    """The first artifact a parsed dvc.yaml names in its `artifacts:` block."""
    artifacts = doc.get("artifacts") if isinstance(doc, Mapping) else None
    return str(next(iter(artifacts))) if isinstance(artifacts, Mapping) and artifacts else default


def artifact_path(doc: Any) -> str | None:
    """The path of the model artifact a parsed dvc.yaml declares (the first of `type: model`,
    else the first artifact), or None when it declares none."""
    artifacts = doc.get("artifacts") if isinstance(doc, Mapping) else None
    if not isinstance(artifacts, Mapping):
        return None
    entries = [a for a in artifacts.values() if isinstance(a, Mapping) and a.get("path")]
    models = [a for a in entries if a.get("type") == "model"] or entries
    return str(models[0]["path"]) if models else None
