"""Is the workspace what `dvc repro` would leave? Checked before gate, report, verify-built.

Those commands judge the metrics and reports in the workspace. After an edit under
params/ (or to code, data or params.yaml) without `dvc repro`, those files describe an
older run, and a gate that passes on them proves nothing. ``dvc status`` tells: a stage
whose dependencies, params or command differ from dvc.lock has not been rerun.

Outputs are not judged here: one missing from the workspace (not pulled) is not stale,
and an edited output is what `verify-built` itself reports.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mergeml.errors import PipelineError, StaleParamsError, one_line

log = logging.getLogger(__name__)

PARAMS_DIR = "params"
PARAMS_FILE = "params.yaml"
RERUN = "run `dvc repro` (or `make repro`)"
_MAX_LISTED = 4


def require_reproduced(root: Path, command: str) -> None:
    """Raise unless params.yaml and dvc.lock are current for the workspace in ``root``.

    StaleParamsError when params/ changed since params.yaml was composed; PipelineError
    when another dependency, param or command changed since dvc.lock was written.
    ``command`` names the mergeml command in the message. A folder without dvc.yaml has
    no pipeline to check.
    """
    if not (root / "dvc.yaml").is_file():
        return
    status, composes = pipeline_status(root)
    changes = stale_changes(status)
    if any(change == PARAMS_DIR for found in changes.values() for change in found):
        raise StaleParamsError(
            f"{PARAMS_DIR}/ changed since {PARAMS_FILE} was composed: {RERUN} "
            f"before `mergeml {command}`"
        )
    if changes:
        listed = [f"{stage}: {_first(found)}" for stage, found in changes.items()]
        shown = "; ".join(listed[:_MAX_LISTED]) + ("; ..." if len(listed) > _MAX_LISTED else "")
        raise PipelineError(
            f"the workspace is not what dvc.lock records ({shown}): {RERUN} "
            f"before `mergeml {command}`"
        )
    if not composes and (root / PARAMS_DIR / "config.yaml").is_file():
        _require_composed(root, command)  # no stage composes params.yaml: compare directly
    log.debug("workspace matches dvc.lock")


def _first(changes: list[str], limit: int = 3) -> str:
    more = f" and {len(changes) - limit} more" if len(changes) > limit else ""
    return ", ".join(changes[:limit]) + more


def pipeline_status(root: Path) -> tuple[dict[str, Any], bool]:
    """``dvc status`` of the workspace, and whether a stage composes params.yaml from params/."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(root)) as repo:
            status: dict[str, Any] = repo.status()
    except DvcException as exc:
        raise PipelineError(
            f"cannot tell whether the workspace matches dvc.lock: {one_line(str(exc))}"
        ) from exc
    return status, _composes_params(root / "dvc.yaml")


def _composes_params(dvc_yaml: Path) -> bool:
    """Whether a stage of ``dvc_yaml`` depends on params/ and writes params.yaml.

    Read here rather than from DVC's index: `status` builds that index, then drops it.
    """
    import yaml

    doc = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))  # DVC has just parsed it
    stages = doc.get("stages") if isinstance(doc, Mapping) else None
    for stage in (stages or {}).values():
        if isinstance(stage, Mapping):
            deps, outs = _paths(stage.get("deps")), _paths(stage.get("outs"))
            if PARAMS_DIR in deps and PARAMS_FILE in outs:
                return True
    return False


def _paths(entries: object) -> set[str]:
    """Paths of a dvc.yaml `deps:` or `outs:` list (plain strings or one-key mappings)."""
    if not isinstance(entries, list):
        return set()
    found: set[object] = set()
    for entry in entries:
        found.update(entry if isinstance(entry, Mapping) else [entry])
    return {str(p).rstrip("/") for p in found}


def stale_changes(status: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{stage: [what changed]}`` for stages whose inputs differ from dvc.lock.

    A changed dependency, param or command counts; outputs, missing dependency files
    (not pulled: an earlier stage's output) and `always_changed` stages do not.
    """
    found: dict[str, list[str]] = {}
    for stage, entries in status.items():
        changes = list(_input_changes(entries if isinstance(entries, list) else []))
        if changes:
            found[str(stage).rsplit(":", 1)[-1]] = changes
    return found


def _input_changes(entries: list[Any]) -> Iterator[str]:
    for entry in entries:
        if entry == "changed command":
            yield "command"
        if not isinstance(entry, Mapping):
            continue
        for path, state in (entry.get("changed deps") or {}).items():
            if isinstance(state, Mapping):  # a params file: {key: state}
                yield from (f"{key} in {path}" for key in state)
            elif state != "deleted":
                yield str(path)


def _require_composed(root: Path, command: str) -> None:
    from mergeml.config.compose import check_params_file
    from mergeml.project import allowed_targets

    if not (root / PARAMS_FILE).is_file():
        return
    if check_params_file(root / PARAMS_DIR, root / PARAMS_FILE, allowed_targets(root)):
        raise StaleParamsError(
            f"{PARAMS_DIR}/ changed since {PARAMS_FILE} was composed: {RERUN} "
            f"before `mergeml {command}`"
        )
