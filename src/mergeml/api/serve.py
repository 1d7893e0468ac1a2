"""Serving: pull, predict. One function per command, each returning a typed result;
`mergeml.cli.serve` parses options, calls one and prints it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.errors import UsageError

if TYPE_CHECKING:
    from mergeml.scm import Git
    from mergeml.serve.feedback import Recorded
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


def verify_model(directory: Path) -> dict[str, Any]:
    """The manifest of the `mergeml pull` directory ``directory`` once its model is checked
    (md5, trusted types, scikit-learn version) and loaded: what the Dockerfile runs."""
    from mergeml.serve.predict import load_pulled

    return load_pulled(directory).manifest


def feedback(source: Path, *, log: str | None = None, repo: Path | Git | None = None) -> Recorded:
    """Record the true labels in ``source`` (CSV or Parquet: request_id, label, optional
    row and time) as one part file of the prediction log's feedback dataset; the log is
    ``log``, else the configured one (`mergeml.serve.logstore.log_location`)."""
    from mergeml.errors import ScmError
    from mergeml.scm import Git
    from mergeml.serve.feedback import record_file
    from mergeml.serve.logstore import ENV_VAR, log_location

    try:
        root: Path | None = repo.root if isinstance(repo, Git) else Git(repo or Path()).root
    except ScmError:
        root = None  # outside a repository: no configuration to read
    url = log_location(log, root)
    if url is None:
        raise UsageError(
            f"the prediction log is off (--log, ${ENV_VAR} or [tool.mergeml.serve] "
            'prediction_log is "off"): give --log URL'
        )
    return record_file(source, url)


def serve(
    *,
    stage: str | None = None,
    model: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    log: str | None = None,
    max_rows: int = 10_000,
    max_body_mb: float = 8.0,
    max_batch_rows: int = 512,
    remote: str | None = None,
    repo: Path | Git | None = None,
    say: Callable[[str, bool], None] = lambda line, error: None,
) -> None:
    """Serve the model in ``model`` (a `mergeml pull` directory) or of ``stage`` (pulled
    into models/STAGE when needed) over HTTP until SIGTERM; ``say(line, is_error)`` prints
    the start line. The prediction log goes to ``log`` (else the configured location)."""
    from mergeml.serve.logstore import log_location
    from mergeml.serve.server import ServeOptions, run

    if (stage is None) == (model is None):
        raise UsageError("give --stage STAGE or --model DIR (one of them)")
    directory = model if model is not None else _stage_dir(stage or "", remote, repo)
    options = ServeOptions(
        model_dir=directory.resolve(),
        host=host,
        port=port,
        workers=workers,
        log_url=log_location(log, _repo_root(repo)),
        max_rows=max_rows,
        max_body_mb=max_body_mb,
        max_batch_rows=max_batch_rows,
    )
    run(options, say)


def _repo_root(repo: Path | Git | None) -> Path | None:
    """The repository's root (None outside one): where the log's configuration lives."""
    from mergeml.errors import ScmError
    from mergeml.scm import Git

    try:
        return (repo if isinstance(repo, Git) else Git(repo or Path())).root
    except ScmError:
        return None


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
