"""Serving: pull. One function per command, each returning a typed result;
`mergeml.cli.serve` parses options, calls one and prints it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mergeml.errors import UsageError

if TYPE_CHECKING:
    from mergeml.scm import Git
    from mergeml.serve.pull import Pulled


def pull(
    stage: str | None = None,
    *,
    rev: str | None = None,
    out: Path | None = None,
    remote: str | None = None,
    repo: Path | Git | None = None,
) -> Pulled:
    """Fetch the model of STAGE (or REV) from the DVC remote, verified, into ``out`` with a
    manifest; the version is resolved from git alone."""
    from mergeml.scm import Git
    from mergeml.serve.pull import pull_model

    if (stage is None) == (rev is None):
        raise UsageError("give a STAGE or --rev REV (one of them)")
    git = repo if isinstance(repo, Git) else Git(repo or Path())
    return pull_model(git, stage=stage, rev=rev, out=out, remote=remote)
