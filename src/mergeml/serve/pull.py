"""`mergeml pull`: resolve from git, fetch through DVC, verify, write model and manifest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mergeml.scm import Git
from mergeml.serve.fetch import read_model, verify, write_pulled
from mergeml.serve.resolve import Target, resolve_rev, resolve_stage

PULL_ROOT = "models"  # the default output is models/<stage> (git-ignored)


@dataclass(frozen=True)
class Pulled:
    target: Target
    out: Path
    manifest: dict[str, Any]


def default_out(repo: Git, target: Target) -> Path:
    """``models/<stage>``, else ``models/<version>`` or ``models/<commit>``, in the repository."""
    leaf = target.stage or target.version or target.commit[:12]
    return repo.root / PULL_ROOT / leaf


def pull_model(
    repo: Git,
    *,
    stage: str | None,
    rev: str | None,
    out: Path | None = None,
    remote: str | None = None,
) -> Pulled:
    """Fetch and verify the model of ``stage`` (or ``rev``) and write it into ``out``."""
    target = resolve_stage(repo, stage) if stage is not None else resolve_rev(repo, rev or "HEAD")
    data = read_model(repo.root, target, remote)
    verify(target, data)
    dest = out if out is not None else default_out(repo, target)
    return Pulled(target, dest, write_pulled(dest, target, data))
