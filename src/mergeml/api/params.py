"""Parameters and runs: compose, check, experiments, `dvc repro` under a numeric mode."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mergeml.errors import ConfigError, MergemlError

if TYPE_CHECKING:
    from mergeml.pipeline.experiments import Experiment
    from mergeml.pipeline.numerics import Mode

PARAMS_DIR = Path("params")
PARAMS_FILE = Path("params.yaml")


def project_params_dir(root: Path = Path()) -> Path:
    """``params/`` of the project in ``root``; ConfigError when this is not a project root."""
    if not (root / PARAMS_DIR / "config.yaml").is_file():
        raise ConfigError(
            f"no params/config.yaml in {root.resolve().name}/: run mergeml from the project root"
        )
    return root / PARAMS_DIR


def compose(overrides: Sequence[str]) -> bool:
    """Compose params/ with ``overrides`` into params.yaml; True when it changed."""
    from mergeml.config.compose import compose_to_file
    from mergeml.project import allowed_targets

    targets = allowed_targets()
    return compose_to_file(project_params_dir(), PARAMS_FILE, overrides, targets=targets)


def check() -> list[str]:
    """Differences between params.yaml and a fresh composition (empty when current)."""
    from mergeml.config.compose import check_params_file
    from mergeml.project import allowed_targets

    return check_params_file(project_params_dir(), PARAMS_FILE, allowed_targets())


def require_current(lines: list[str]) -> None:
    """StaleParamsError when ``lines`` (from :func:`check`) show a difference."""
    from mergeml.config.compose import require_current as require

    require(PARAMS_DIR, PARAMS_FILE, lines)


def plan_experiments(overrides: Sequence[str]) -> list[Experiment]:
    """Every combination of ``overrides``, composed and validated; data files checked."""
    from mergeml.data.preflight import preflight
    from mergeml.pipeline import experiments
    from mergeml.project import allowed_targets
    from mergeml.scm import tracked_by_git

    planned = experiments.plan(project_params_dir(), overrides, targets=allowed_targets())
    preflight([e.params for e in planned], Path(), is_tracked=tracked_by_git)
    return planned


def run_experiments(
    planned: list[Experiment],
    *,
    queue: bool,
    jobs: int,
    timeout: float,
    progress: Callable[[str], None],
) -> None:
    """Run ``planned`` (serially, or through DVC's queue); MergemlError when any failed."""
    from mergeml.pipeline import exp_queue, experiments

    if queue:
        failed = exp_queue.run_queued(planned, jobs=jobs, timeout=timeout, progress=progress)
    else:
        failed = experiments.run_serial(planned, progress=progress)
    if failed:
        raise MergemlError(f"{len(failed)} of {len(planned)} experiment(s) failed: {failed}")


def numerics_mode(numerics: str | None) -> Mode:
    """The numeric mode asked for, else the project's ([tool.mergeml.build] numerics)."""
    from mergeml.pipeline.numerics import configured_mode

    if numerics is None:
        return configured_mode(Path("pyproject.toml"))
    return "pinned" if numerics == "pinned" else "native"


def repro(mode: Mode, dvc_args: Sequence[str], on_wait: Callable[[str], object]) -> int:
    """Run `dvc repro DVC_ARGS` under ``mode``, one run at a time in this workspace
    (``on_wait(pid)`` once when another holds it); DVC's exit code."""
    from mergeml.pipeline.repro import run_repro

    return run_repro(mode, dvc_args, on_wait)
