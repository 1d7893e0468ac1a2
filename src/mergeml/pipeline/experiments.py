"""`mergeml exp run`: Hydra overrides -> DVC experiments that `dvc exp show` lists.

Each combination of overrides becomes `dvc exp run -S params/config.yaml:...` edits:
group choices rewrite the defaults list, values are set in config.yaml (whose `_self_`
comes last, so they win). Before anything runs, every combination is composed with
Hydra, and the edits are replayed on a scratch copy of params/ to prove they compose to
exactly the same parameters, so the `compose` stage cannot clobber an experiment.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mergeml.config.compose import Override, compose_params, load_yaml, parse_overrides
from mergeml.errors import ConfigError, PipelineError

log = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"


@dataclass(frozen=True)
class Experiment:
    """One point of a sweep: its overrides and the `-S` edits that realise them."""

    overrides: tuple[str, ...]
    set_params: tuple[str, ...]
    params: dict[str, Any]


def expand(overrides: Sequence[Override]) -> list[tuple[str, ...]]:
    """Cartesian product of sweep overrides; plain overrides appear in every point."""
    axes = [[f"{o.key}={v}" for v in o.sweep] if o.sweep else [o.text] for o in overrides]
    return [tuple(point) for point in itertools.product(*axes)] if axes else [()]


def _defaults_value(defaults: list[Any], choices: dict[str, str]) -> str:
    items = []
    for entry in defaults:
        if isinstance(entry, str):
            items.append(entry)
            continue
        ((group, choice),) = entry.items()
        if " " in str(group):
            raise ConfigError(
                f"params/{CONFIG_FILE}: defaults entry '{group}' cannot be set by an experiment"
            )
        chosen = choices.get(group, choice)
        items.append(f"{{{group}:{'null' if chosen is None else chosen}}}")
    return "[" + ",".join(items) + "]"


def to_set_params(params_dir: Path, point: Sequence[str]) -> tuple[str, ...]:
    """`dvc exp run -S` arguments that turn params/ into this point's configuration."""
    parsed = parse_overrides(point, params_dir)
    config = load_yaml(params_dir / CONFIG_FILE)
    defaults = config.get("defaults", []) if isinstance(config, dict) else []
    listed = {next(iter(e)) for e in defaults if isinstance(e, dict)}
    choices: dict[str, str] = {}
    edits: list[str] = []
    for ovr in parsed:
        if ovr.is_group:
            if ovr.key not in listed:
                raise ConfigError(
                    f"group '{ovr.key}' is not in the defaults list of params/{CONFIG_FILE}"
                )
            choices[ovr.key] = ovr.value
        else:
            edits.append(f"++{ovr.text}")
    prefix = f"{params_dir.as_posix()}/{CONFIG_FILE}:"
    result = [f"{prefix}++defaults={_defaults_value(defaults, choices)}"] if choices else []
    return tuple(result + [prefix + edit for edit in edits])


def _replay(params_dir: Path, set_params: Sequence[str]) -> dict[str, Any]:
    """Apply the edits the way DVC will, on a scratch copy, and compose the result."""
    from dvc.utils.hydra import apply_overrides

    with tempfile.TemporaryDirectory(prefix="mergeml-exp-") as scratch:
        copy = Path(scratch) / "params"
        shutil.copytree(params_dir, copy)
        for item in set_params:
            _, override = item.split(":", 1)
            apply_overrides(copy / CONFIG_FILE, [override])
        return compose_params(copy)


def plan(params_dir: Path, overrides: Sequence[str]) -> list[Experiment]:
    """Validate every point of the sweep and derive its edits; nothing runs here."""
    points = expand(parse_overrides(overrides, params_dir, allow_sweeps=True))
    planned = []
    for point in points:
        expected = compose_params(params_dir, point)
        set_params = to_set_params(params_dir, point)
        if _replay(params_dir, set_params) != expected:
            raise ConfigError(
                f"overrides {' '.join(point)} cannot be expressed as edits of params/ "
                "(a preset in params/experiment/ may override the same key or group)"
            )
        planned.append(Experiment(tuple(point), set_params, expected))
    return planned


Runner = Callable[..., subprocess.CompletedProcess[str]]


def dvc(args: Sequence[str], *, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the DVC CLI of this interpreter's environment."""
    cmd = [sys.executable, "-m", "dvc", *args]
    log.debug("running %s", " ".join(cmd))
    return subprocess.run(cmd, check=False, text=True, capture_output=capture)


Progress = Callable[[str], object]


def run_serial(
    experiments: Sequence[Experiment], runner: Runner = dvc, progress: Progress = log.info
) -> list[str]:
    """Run each experiment in a temporary directory, one after the other.

    The workspace is left untouched; `dvc exp show` lists the results and
    `dvc exp apply NAME` brings one into the workspace. Returns the failed points.
    """
    failed = []
    for i, exp in enumerate(experiments, 1):
        label = " ".join(exp.overrides) or "(no overrides)"
        progress(f"running experiment {i}/{len(experiments)}: {label}")
        args = ["exp", "run", "--temp"] + [a for s in exp.set_params for a in ("-S", s)]
        if runner(args).returncode != 0:
            failed.append(label)
    return failed


def run_queued(
    experiments: Sequence[Experiment],
    *,
    jobs: int,
    timeout: float,
    poll: float = 2.0,
    runner: Runner = dvc,
    progress: Progress = log.info,
) -> list[str]:
    """Queue every experiment, start ``jobs`` workers, and poll until done or ``timeout``.

    Only the tasks queued by this call are waited for and reported: entries left in DVC's
    queue by earlier runs (failed, or still queued) are not this run's results.
    """
    before = {task for task, _, _ in queue_status(runner)}

    def ours() -> list[tuple[str, str, str]]:
        return [row for row in queue_status(runner) if row[0] not in before]

    for exp in experiments:
        args = ["exp", "run", "--queue"] + [a for s in exp.set_params for a in ("-S", s)]
        if runner(args).returncode != 0:
            queued = [task for task, _, _ in ours()]
            if queued:
                runner(["queue", "remove", *queued])
            raise PipelineError(f"could not queue experiment {' '.join(exp.overrides)}")
    if runner(["queue", "start", "--jobs", str(jobs)]).returncode != 0:
        raise PipelineError("`dvc queue start` failed")
    deadline = time.monotonic() + timeout
    shown = ""
    while True:
        status = ours()
        pending = [task for task, _, state in status if state in PENDING]
        counts = {state: sum(row[2] == state for row in status) for state in sorted(STATES)}
        summary = ", ".join(f"{n} {state.lower()}" for state, n in counts.items() if n)
        if summary != shown:
            progress(f"queue: {summary}")
            shown = summary
        if not pending:
            runner(["queue", "stop"])
            return [name for _, name, state in status if state not in PENDING | {"Success"}]
        if time.monotonic() > deadline:
            runner(["queue", "kill", *pending])
            runner(["queue", "stop", "--kill"])
            raise PipelineError(
                f"{len(pending)} queued experiment(s) did not finish within {timeout:.0f} s;"
                " they were stopped (see `dvc queue logs NAME`)"
            )
        time.sleep(poll)


PENDING = frozenset({"Queued", "Running"})
STATES = PENDING | {"Success", "Failed", "Unknown"}


def queue_status(runner: Runner = dvc) -> list[tuple[str, str, str]]:
    """(task id, name or task id, status) for every task DVC's queue knows about.

    Parses `dvc queue status`; its columns are Task, Name (may be empty), Created
    ("-", "02:44 PM" or "Nov 21, 2026") and Status, so the row is read from the right.
    """
    proc = runner(["queue", "status"], capture=True)
    rows = []
    for line in (proc.stdout or "").splitlines()[1:]:
        cells = line.split()
        if len(cells) < 3 or cells[-1] not in STATES:
            continue
        created = 1 if cells[-2] == "-" else 2 if cells[-2] in {"AM", "PM"} else 3
        rest = cells[: -1 - created]
        if rest:
            rows.append((rest[0], rest[1] if len(rest) > 1 else rest[0], cells[-1]))
    return rows
