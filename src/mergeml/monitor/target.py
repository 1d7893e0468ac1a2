"""Which model a check is about, and what was recorded with it: its reference profile,
input schema, evaluation metrics and gates.

``--stage`` and ``--rev`` are resolved from git alone as `mergeml pull` resolves them; the
profile, schema, metrics and params are git-tracked, so they are read at the model's
commit (no DVC). Without either, the workspace's files and dvc.lock are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.config.lockfile import out_md5
from mergeml.errors import ModelFileError, MonitorError
from mergeml.model.schema import parse_schema
from mergeml.project import LOCK_FILE, Side, git_side, layout_at, workspace_layout, workspace_side
from mergeml.scm import Git
from mergeml.serve.resolve import resolve_rev, resolve_stage

if TYPE_CHECKING:
    from mergeml.config.schema import GatesConfig
    from mergeml.project import Layout


@dataclass(frozen=True)
class MonitorTarget:
    """The model checked and what its commit (or the workspace) recorded with it."""

    label: str  # "tabular-model v0.3.0 (production)", "tabular-model at abc1234", ...
    stage: str | None
    commit: str | None  # None: the workspace
    md5: str | None  # the model's md5 (None: the workspace has no dvc.lock entry)
    side: Side
    layout: Layout
    profile: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        return {"label": self.label, "stage": self.stage, "commit": self.commit, "md5": self.md5}

    def schema(self) -> dict[str, Any] | None:
        return parse_schema(self.side.read(self.layout.schema_path))

    def metrics_text(self) -> str | None:
        return self.side.read(self.layout.metrics)

    def gates(self) -> GatesConfig:
        from mergeml.project import gate_rules

        return gate_rules(self.side)


def profile_path(layout: Layout) -> str:
    """models/reference_profile.json: the profile beside the model."""
    return layout.profile_path


def _profile(side: Side, layout: Layout, md5: str | None) -> dict[str, Any]:
    from mergeml.evaluation.profile import read_profile

    path = profile_path(layout)
    where = f"{path} at {side.short}"
    text = side.read(path)
    if text is None:
        raise MonitorError(
            f"no reference profile {where}: the pipeline's profile stage writes it with the "
            "model (run `dvc repro`, or check another --rev)"
        )
    profile = read_profile(text, where)
    recorded = profile.get("model_md5")
    if md5 is not None and recorded and recorded != md5:
        raise MonitorError(
            f"{where} was made for model md5 {str(recorded)[:12]}, not for {md5[:12]} "
            f"recorded in {LOCK_FILE}: rebuild it with `dvc repro`"
        )
    return profile


def _workspace_md5(root: Path, layout: Layout) -> str | None:
    lock = root / LOCK_FILE
    if not lock.is_file():
        return None
    try:
        return out_md5(lock.read_text(encoding="utf-8"), layout.model_path)
    except ModelFileError as exc:
        raise MonitorError(f"{LOCK_FILE} is unreadable: {exc}") from exc


def resolve_target(repo_root: Path, *, stage: str | None, rev: str | None) -> MonitorTarget:
    """The model of ``stage``, of ``rev``, or (neither) of the workspace at ``repo_root``."""
    if stage is not None and rev is not None:
        raise MonitorError("give --stage or --rev, not both")
    if stage is None and rev is None:
        layout = workspace_layout(repo_root)
        side = workspace_side(repo_root)
        md5 = _workspace_md5(repo_root, layout)
        profile = _profile(side, layout, md5)
        md5 = md5 or profile.get("model_md5")
        return MonitorTarget(f"{layout.model} (workspace)", None, None, md5, side, layout, profile)
    repo = Git(repo_root)
    found = resolve_stage(repo, stage) if stage is not None else resolve_rev(repo, rev or "")
    layout = layout_at(repo, found.commit)
    side = git_side(repo, found.commit)
    label = found.label + (f" ({found.stage})" if found.stage else "")
    profile = _profile(side, layout, found.md5)
    return MonitorTarget(label, found.stage, found.commit, found.md5, side, layout, profile)
