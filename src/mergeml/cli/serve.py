"""`mergeml pull`: parse the options, call one function of `mergeml.api.serve`, print it."""

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


SERVE_COMMANDS = (pull,)
