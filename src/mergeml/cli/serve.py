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


SERVE_COMMANDS = (pull, predict)
