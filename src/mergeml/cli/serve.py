"""`mergeml pull` and `mergeml predict`: parse the options, call one function of
`mergeml.api.serve`, print what it returns."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mergeml.api import serve as api


@click.command("pull")
@click.argument("stage", required=False)
@click.option("--rev", help="Pull the model committed at this revision instead of a stage's.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Write here (default: models/STAGE, or models/VERSION for --rev).",
)
@click.option("--remote", help="The DVC remote to read (default: the configured default).")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def pull(
    stage: str | None, rev: str | None, out: Path | None, remote: str | None, as_json: bool
) -> None:
    """Fetch the model of STAGE (or --rev REV), verified, with a manifest.json.

    The version comes from git alone: the head of release/STAGE (as last fetched) and the
    registry tags; the model's md5 from that commit's dvc.lock. The model is read through
    DVC (its cache, else the remote: a shared remote, since the default one is per clone),
    checked against that md5, its trusted types and the installed scikit-learn, and
    written with manifest.json (name, version, stage, commit, md5, input schema) into a
    directory that appears whole or not at all.
    """
    done = api.pull(stage, rev=rev, out=out, remote=remote)
    if as_json:
        click.echo(json.dumps(done.manifest, indent=2))
        return
    target = done.target
    detail = [target.stage] if target.stage else []
    detail += [target.short] if target.version else []  # else the label names the commit
    detail.append(f"md5 {target.md5[:12]}")
    click.echo(f"pulled {target.label} ({', '.join(detail)}) into {done.out}")


@click.command("predict")
@click.argument("source", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output", metavar="OUTPUT", type=click.Path(path_type=Path))
@click.option("--stage", help="Score with the model of this stage (pulled into models/STAGE).")
@click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Score with the model in this `mergeml pull` directory.",
)
@click.option(
    "--batch-rows",
    type=click.IntRange(min=1),
    help="Rows read, checked and scored at a time (default 65536): bounds the memory.",
)
@click.option("--remote", help="The DVC remote --stage pulls from (default: the configured one).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def predict(
    source: Path,
    output: Path,
    stage: str | None,
    model_dir: Path | None,
    batch_rows: int | None,
    remote: str | None,
    as_json: bool,
) -> None:
    """Score INPUT (CSV or Parquet) into OUTPUT (Parquet or CSV) with a stage's model.

    Streams INPUT in batches: each is checked against the model's input schema (a missing
    column, a wrong dtype, a missing value where training had none, an unknown category
    stop it with one line naming the column, the count and the rows) and scored. OUTPUT
    holds `prediction` and, for a classifier, one `proba_<class>` column per class, in
    INPUT's row order; a Parquet OUTPUT carries the model's name, version, stage, commit
    and md5 as metadata. OUTPUT appears whole or not at all.
    """
    done = api.predict(
        source, output, stage=stage, model=model_dir, batch_rows=batch_rows, remote=remote
    )
    manifest = done.manifest
    if as_json:
        keys = ("name", "version", "stage", "commit", "md5")
        doc = {
            "output": str(done.output),
            "rows": done.rows,
            "batches": done.batches,
            "seconds": round(done.seconds, 4),
            "model": {k: manifest.get(k) for k in keys},
        }
        click.echo(json.dumps(doc, indent=2))
        return
    label = f"{manifest.get('name')} {manifest.get('version') or str(manifest.get('commit'))[:7]}"
    click.echo(f"scored {done.rows:,} rows with {label} into {done.output}")


@click.command("verify-model")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def verify_model(directory: Path) -> None:
    """Check the model in DIRECTORY (a `mergeml pull` output) and exit 0, else 1.

    The md5 its manifest records, its trusted types and the installed scikit-learn; the
    model is loaded as `mergeml serve` loads it. The Dockerfile runs this at build time.
    """
    manifest = api.verify_model(directory)
    label = manifest.get("version") or str(manifest.get("commit"))[:7]
    md5 = str(manifest.get("md5"))[:12]
    click.echo(f"verified {manifest.get('name')} {label} (md5 {md5}) in {directory}")


@click.command("feedback")
@click.argument("source", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--log",
    "log_url",
    metavar="URL",
    help="The prediction log's root, a path or fsspec URL (default: $MERGEML_PREDICTION_LOG, "
    "else [tool.mergeml.serve] prediction_log, else logs/).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was recorded as JSON.")
def feedback(source: Path, log_url: str | None, as_json: bool) -> None:
    """Record the true labels in FILE (CSV or Parquet) for logged predictions.

    FILE's columns: request_id and label, optionally row (the row's position in its
    request, default 0) and time (when the label was known, default now). Every row is
    checked first (one line names the first bad row); then all of them go into one new
    part file under LOG/feedback/date=<today>/, which appears whole or not at all.
    """
    done = api.feedback(source, log=log_url)
    if as_json:
        doc = {"file": str(done.source), "rows": done.rows, "log": done.log, "part": done.part}
        click.echo(json.dumps(doc, indent=2))
        return
    where = f"into {done.part}" if done.part else f"({done.source} holds no rows)"
    click.echo(f"recorded {done.rows:,} feedback rows {where}")


@click.command("serve")
@click.option("--stage", help="Serve the model of this stage (pulled into models/STAGE).")
@click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Serve the model in this `mergeml pull` directory.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 in a container).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="TCP port to listen on.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes (each loads the model and scores on one thread).",
)
@click.option("--log", "log_url", help="Prediction log root (a path or URL; 'off' disables it).")
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Most rows in one request (more: 413).",
)
@click.option(
    "--max-body-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=8.0,
    show_default=True,
    help="Largest request body in MiB (larger: 413).",
)
@click.option(
    "--max-batch-rows",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    help="Most rows per model call when requests queued on a busy worker are scored together.",
)
@click.option("--remote", help="The DVC remote --stage pulls from (default: the configured one).")
def serve(
    stage: str | None,
    model_dir: Path | None,
    host: str,
    port: int,
    workers: int,
    log_url: str | None,
    max_rows: int,
    max_body_mb: float,
    max_batch_rows: int,
    remote: str | None,
) -> None:
    """Serve a stage's model over HTTP until SIGTERM (Open Inference Protocol V2, MLflow
    /invocations, /metrics; docs at /docs).

    Every request is checked against the model's input schema; a bad one gets a 4xx whose
    JSON names the column. A model that fails verification leaves the server running but
    not ready (503), the reason on stderr. SIGTERM drains in-flight requests, flushes the
    prediction log and exits 0.
    """

    def say(line: str, error: bool) -> None:
        click.echo(line, err=error)

    api.serve(
        stage=stage,
        model=model_dir,
        host=host,
        port=port,
        workers=workers,
        log=log_url,
        max_rows=max_rows,
        max_body_mb=max_body_mb,
        max_batch_rows=max_batch_rows,
        remote=remote,
        say=say,
    )


SERVE_COMMANDS = (pull, predict, verify_model, feedback, serve)
