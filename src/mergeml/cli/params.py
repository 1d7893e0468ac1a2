"""`mergeml params`, `mergeml exp run` and `mergeml repro`: parse, call the API, print."""

from __future__ import annotations

import click

from mergeml.api import params as api_params
from mergeml.api.params import PARAMS_FILE


@click.group()
def params() -> None:
    """Compose and check parameters (params/ -> params.yaml)."""


@params.command("compose")
@click.argument("overrides", nargs=-1)
def params_compose(overrides: tuple[str, ...]) -> None:
    """Compose params/ with Hydra OVERRIDES and write params.yaml.

    Example: mergeml params compose model=random_forest model.n_estimators=300
    """
    changed = api_params.compose(overrides)
    click.echo(f"{PARAMS_FILE} {'updated' if changed else 'unchanged'}")


@params.command("check")
def params_check() -> None:
    """Fail (exit 1) with a diff when params.yaml is not what params/ composes to."""
    lines = api_params.check()
    if lines:
        click.echo("\n".join(lines))
        api_params.require_current(lines)
    click.echo(f"{PARAMS_FILE} is current")


@click.group()
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
    planned = api_params.plan_experiments(overrides)
    for i, item in enumerate(planned, 1):
        click.echo(f"[{i}/{len(planned)}] {' '.join(item.overrides) or '(no overrides)'}")
    if dry_run:
        return
    api_params.run_experiments(
        planned, queue=queue, jobs=jobs, timeout=timeout, progress=click.echo
    )
    click.echo(f"{len(planned)} experiment(s) done; see `dvc exp show`")


@click.command("repro", context_settings={"ignore_unknown_options": True})
@click.option(
    "--numerics",
    type=click.Choice(["native", "pinned"]),
    help="native: the fastest kernels of this CPU; pinned: the same kernels and one thread "
    "on every x86-64 machine (byte-identical models, slower). Default: [tool.mergeml.build] "
    "numerics in pyproject.toml, else native.",
)
@click.argument("dvc_args", nargs=-1, type=click.UNPROCESSED)
def repro(numerics: str | None, dvc_args: tuple[str, ...]) -> None:
    """Run `dvc repro DVC_ARGS` under the project's numeric environment.

    One run at a time per workspace: a second `mergeml repro` (or `make repro`) waits
    for the first, then runs. Example: mergeml repro --numerics pinned -f
    """
    mode = api_params.numerics_mode(numerics)
    if mode == "pinned":
        click.echo("mergeml repro: pinned numerics (baseline kernels, one thread)", err=True)

    def waiting(pid: str) -> None:
        click.echo(
            f"mergeml repro: waiting for another mergeml repro in this workspace (pid {pid})...",
            err=True,
        )

    code = api_params.repro(mode, dvc_args, waiting)
    if code:  # DVC has said what failed; pass its exit code on, add no second line
        click.get_current_context().exit(code)


PARAMS_COMMANDS = (params, exp, repro)
