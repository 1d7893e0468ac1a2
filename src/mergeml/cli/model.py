"""`mergeml model check`: parse, call the API, print."""

from __future__ import annotations

from pathlib import Path

import click

from mergeml.api import model as api_model


@click.group()
def model() -> None:
    """Inspect model files safely."""


@model.command("check")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option(
    "--lock",
    type=click.Path(path_type=Path),
    default=Path("dvc.lock"),
    show_default=True,
    help="dvc.lock holding the expected md5 of the model artifact.",
)
@click.option(
    "--out",
    "out_path",
    metavar="PATH",
    help="The dvc.lock output to compare with (default: the model artifact in the dvc.yaml "
    "beside --lock).",
)
@click.option("--no-lock", is_flag=True, help="Skip the md5 comparison (a file with no record).")
def model_check(path: Path | None, lock: Path, out_path: str | None, no_lock: bool) -> None:
    """Verify a model file: skops format, trusted types, md5 against dvc.lock, versions.

    PATH defaults to the model artifact that dvc.yaml declares. The md5 is compared with
    the dvc.lock entry of the model artifact (found through dvc.yaml, whatever PATH is
    called); a missing lock or entry is an error unless --no-lock is given.
    """
    checked = api_model.check_model(path, lock, out_path, no_lock=no_lock)
    what = (
        f"md5 matches {checked.compared_with} in {lock}"
        if checked.compared_with
        else "md5 not compared"
    )
    click.echo(f"{checked.path}: OK ({type(checked.model).__name__}; {what})")
