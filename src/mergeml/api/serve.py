"""Serving: pull, predict. One function per command, each returning a typed result;
`mergeml.cli.serve` parses options, calls one and prints it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mergeml.errors import UsageError

if TYPE_CHECKING:
    from mergeml.scm import Git
    from mergeml.serve.predict import Scored
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


def predict(
    source: Path,
    output: Path,
    *,
    stage: str | None = None,
    model: Path | None = None,
    batch_rows: int | None = None,
    remote: str | None = None,
    repo: Path | Git | None = None,
) -> Scored:
    """Score the CSV or Parquet file ``source`` into ``output`` with the model in ``model``
    (a `mergeml pull` directory) or of ``stage`` (pulled into models/STAGE unless the pull
    there already holds the stage's current commit and md5)."""
    from mergeml.serve.predict import DEFAULT_BATCH_ROWS, load_pulled, predict_file

    if (stage is None) == (model is None):
        raise UsageError("give --stage STAGE or --model DIR (one of them)")
    directory = model if model is not None else _stage_dir(stage or "", remote, repo)
    pulled = load_pulled(directory)
    return predict_file(pulled, source, output, batch_rows=batch_rows or DEFAULT_BATCH_ROWS)


def _stage_dir(stage: str, remote: str | None, repo: Path | Git | None) -> Path:
    """models/STAGE holding the stage's current model: reused when its manifest matches."""
    import json

    from mergeml.scm import Git
    from mergeml.serve.fetch import MANIFEST
    from mergeml.serve.pull import default_out, pull_model
    from mergeml.serve.resolve import resolve_stage

    git = repo if isinstance(repo, Git) else Git(repo or Path())
    target = resolve_stage(git, stage)
    out = default_out(git, target)
    try:
        held = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        held = None
    if isinstance(held, dict) and (held.get("commit"), held.get("md5")) == (
        target.commit,
        target.md5,
    ):
        return out
    return pull_model(git, stage=stage, rev=None, out=out, remote=remote).out
