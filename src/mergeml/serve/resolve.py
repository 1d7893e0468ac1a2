"""Which model a stage or revision holds, read from git alone: no DVC, no network.

A stage holds what the head of its `release/<stage>` branch holds (the remote's branch, as
last fetched, else a local one); the version is the registered one of that commit or of
its model md5 (GTO-grammar tags, `mergeml.release.registry`). The model's md5 comes from
that commit's dvc.lock, its input schema from the file the train stage wrote next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mergeml.config.lockfile import out_md5
from mergeml.errors import ModelFileError, PullError
from mergeml.model.schema import parse_schema
from mergeml.project import LOCK_FILE, layout_at, release_branch
from mergeml.release.policy import parse_policy
from mergeml.release.registry import holding_version, read_artifact
from mergeml.scm import Git

POLICY_REFS = ("origin/main", "HEAD")  # where the stages are read: reviewed main first


@dataclass(frozen=True)
class Target:
    """One model to fetch: what it is, where it is committed and how to check it."""

    name: str  # the artifact's name, as GTO tags use it
    version: str | None  # None: the commit holds no registered version
    stage: str | None  # the stage it was fetched for (None: by revision)
    commit: str
    model_path: str  # where dvc.yaml at the commit puts the model
    md5: str  # what dvc.lock at the commit records for it
    schema: dict[str, Any] | None  # the input schema committed with it (None: none)

    @property
    def short(self) -> str:
        return self.commit[:7]

    @property
    def label(self) -> str:
        """``tabular-model v0.2.0`` (or ``tabular-model at abc1234`` when unregistered)."""
        return f"{self.name} {self.version}" if self.version else f"{self.name} at {self.short}"


def known_stages(repo: Git) -> tuple[str, ...]:
    """The stages of the promotion policy on origin/main (else HEAD)."""
    ref = next((r for r in POLICY_REFS if repo.first_existing([r])), None)
    text = repo.read_text(ref, "pyproject.toml") if ref else None
    return parse_policy(text, f"pyproject.toml on {ref}").stages


def target_at(repo: Git, commit: str, stage: str | None = None) -> Target:
    """The model committed at ``commit`` (a full sha); PullError when dvc.lock lacks it."""
    layout = layout_at(repo, commit)
    lock = repo.read_text(commit, LOCK_FILE)
    try:
        md5 = out_md5(lock, layout.model_path) if lock else None
    except ModelFileError as exc:
        raise PullError(f"{LOCK_FILE} at {commit[:7]} is unreadable: {exc}") from exc
    if md5 is None:
        raise PullError(
            f"{LOCK_FILE} at {commit[:7]} records no md5 for {layout.model_path}: "
            "that commit holds no built model"
        )
    version = holding_version(read_artifact(repo, layout.model), commit, md5)
    return Target(
        name=layout.model,
        version=version.version if version else None,
        stage=stage,
        commit=commit,
        model_path=layout.model_path,
        md5=md5,
        schema=parse_schema(repo.read_text(commit, layout.schema_path)),
    )


def resolve_stage(repo: Git, stage: str) -> Target:
    """The model ``stage`` holds: the head of its release branch, with a registered version."""
    stages = known_stages(repo)
    if stage not in stages:
        raise PullError(
            f"unknown stage '{stage}': the promotion policy ([tool.mergeml.promotion] in "
            f"pyproject.toml) names {', '.join(stages)}"
        )
    branch = release_branch(stage)
    commit = repo.first_existing([f"origin/{branch}", branch])
    if commit is None:
        raise PullError(
            f"nothing in stage '{stage}': no {branch} branch (run `git fetch`, or "
            f"`mergeml promote {stage}` first)"
        )
    target = target_at(repo, commit, stage)
    if _unassigned(repo, target.name, stage):
        raise PullError(
            f"nothing in stage '{stage}': {target.name} was unassigned from it (its newest "
            f"{stage} tag ends in '!')"
        )
    if target.version is None:
        raise PullError(
            f"nothing in stage '{stage}': the head of {branch} ({commit[:7]}) holds no "
            f"registered version of {target.name}"
        )
    return target


def _unassigned(repo: Git, name: str, stage: str) -> bool:
    """Whether the newest assignment of ``stage`` to artifact ``name`` is an unassignment."""
    items = [a for a in read_artifact(repo, name).assignments if a.stage == stage]
    newest = max(items, key=lambda a: (a.timestamp, a.number), default=None)
    return newest is not None and newest.unassign


def resolve_rev(repo: Git, rev: str) -> Target:
    """The model committed at ``rev`` (registered or not); ScmError for an unknown ref."""
    return target_at(repo, repo.resolve(rev))
