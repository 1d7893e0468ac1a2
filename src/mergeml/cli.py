"""The `mergeml` command line: one group, thin commands, one error boundary."""

from __future__ import annotations

import itertools
import logging
import sys
from pathlib import Path

import click

from mergeml import __version__
from mergeml.errors import ConfigError, MergemlError, UsageError, run_with_boundary

PARAMS_DIR = Path("params")
PARAMS_FILE = Path("params.yaml")


def _project_dir() -> Path:
    if not (PARAMS_DIR / "config.yaml").is_file():
        raise ConfigError(
            f"no params/config.yaml in {Path.cwd().name}/: run mergeml from the project root"
        )
    return PARAMS_DIR


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mergeml")
@click.option("--traceback", is_flag=True, help="Show the full Python traceback on errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress and debug details.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool, verbose: bool) -> None:
    """mergeml: Git-centric, declarative MLOps (Hydra params, DVC stages, gated merges)."""
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback
    # Quiet by default, so that an error is the only line on stderr (STYLE 8);
    # --verbose shows mergeml's own progress and debug messages, not other libraries'.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("mergeml").setLevel(logging.DEBUG if verbose else logging.WARNING)


@cli.group()
def params() -> None:
    """Compose and check parameters (params/ -> params.yaml)."""


@params.command("compose")
@click.argument("overrides", nargs=-1)
def params_compose(overrides: tuple[str, ...]) -> None:
    """Compose params/ with Hydra OVERRIDES and write params.yaml.

    Example: mergeml params compose model=random_forest model.n_estimators=300
    """
    from mergeml.config.compose import compose_to_file

    changed = compose_to_file(_project_dir(), PARAMS_FILE, overrides)
    click.echo(f"{PARAMS_FILE} {'updated' if changed else 'unchanged'}")


@params.command("check")
def params_check() -> None:
    """Fail (exit 1) with a diff when params.yaml is not what params/ composes to."""
    from mergeml.config.compose import check_params_file, require_current

    lines = check_params_file(_project_dir(), PARAMS_FILE)
    if lines:
        click.echo("\n".join(lines))
        require_current(PARAMS_DIR, PARAMS_FILE, lines)
    click.echo(f"{PARAMS_FILE} is current")


@cli.group()
def exp() -> None:
    """Run experiments from Hydra overrides (as DVC experiments)."""


@exp.command("run")
@click.argument("overrides", nargs=-1)
@click.option("--queue", is_flag=True, help="Run through DVC's queue with worker processes.")
@click.option(
    "--jobs", type=click.IntRange(1, 16), default=1, show_default=True, help="Queue workers."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=3600,
    show_default=True,
    help="Seconds to wait for queued experiments before stopping them.",
)
@click.option("--dry-run", is_flag=True, help="Validate and print the plan; run nothing.")
def exp_run(
    overrides: tuple[str, ...], queue: bool, jobs: int, timeout: float, dry_run: bool
) -> None:
    """Run one DVC experiment per combination of OVERRIDES.

    Group choices (model=random_forest), values (model.max_iter=300) and sweeps
    (model.max_iter=100,200,400) are accepted. Every combination is validated before
    anything runs. Without --queue, experiments run one after the other in temporary
    directories; the workspace is not changed. See them with `dvc exp show`.
    """
    from mergeml import experiments
    from mergeml.data.preflight import preflight

    planned = experiments.plan(_project_dir(), overrides)
    preflight([e.params for e in planned], Path())
    for i, item in enumerate(planned, 1):
        click.echo(f"[{i}/{len(planned)}] {' '.join(item.overrides) or '(no overrides)'}")
    if dry_run:
        return
    if queue:
        failed = experiments.run_queued(planned, jobs=jobs, timeout=timeout, progress=click.echo)
    else:
        failed = experiments.run_serial(planned, progress=click.echo)
    if failed:
        raise MergemlError(f"{len(failed)} of {len(planned)} experiment(s) failed: {failed}")
    click.echo(f"{len(planned)} experiment(s) done; see `dvc exp show`")


@cli.group()
def model() -> None:
    """Inspect model files safely."""


@model.command("check")
@click.argument("path", type=click.Path(path_type=Path), default=Path("models/model.skops"))
@click.option(
    "--lock",
    type=click.Path(path_type=Path),
    default=Path("dvc.lock"),
    show_default=True,
    help="dvc.lock holding the expected md5 of PATH.",
)
def model_check(path: Path, lock: Path) -> None:
    """Verify a model file: skops format, trusted types, md5 against dvc.lock, versions."""
    from mergeml.lockfile import output_md5
    from mergeml.model.io import load_model

    expected = output_md5(lock, path.as_posix()) if lock.exists() else None
    model_obj = load_model(path, expected_md5=expected)
    checked = "md5 matches dvc.lock" if expected else "no dvc.lock entry to compare"
    click.echo(f"{path}: OK ({type(model_obj).__name__}; {checked})")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: click parses, the error boundary reports."""
    args = sys.argv[1:] if argv is None else argv
    # --traceback is a group option: it only counts before the first command name.
    traceback = "--traceback" in itertools.takewhile(lambda a: a.startswith("-"), args)

    def invoke() -> None:
        try:
            cli.main(args=args, prog_name="mergeml", standalone_mode=False)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        except click.UsageError as exc:
            raise UsageError(exc.format_message()) from exc
        except click.exceptions.Abort as exc:
            raise MergemlError("aborted") from exc
        except click.exceptions.Exit as exc:
            if exc.exit_code:
                sys.exit(exc.exit_code)

    run_with_boundary(invoke, traceback=traceback)
