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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mergeml.config.compose import Override, compose_params, load_yaml, parse_overrides
from mergeml.config.targets import DEFAULT_TARGETS
from mergeml.errors import ConfigError, Interrupted, signum_of
from mergeml.pipeline import child

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


def to_set_params(
    params_dir: Path, point: Sequence[str], *, source: Path | None = None
) -> tuple[str, ...]:
    """`dvc exp run -S` arguments that turn params/ into this point's configuration
    (read from ``source``, a copy of params/, when given; the arguments name params_dir)."""
    read = source or params_dir
    parsed = parse_overrides(point, read)
    config = load_yaml(read / CONFIG_FILE)
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
        return compose_params(copy, check_estimators=False)  # plan() has checked them


def plan(
    params_dir: Path, overrides: Sequence[str], *, targets: Sequence[str] = DEFAULT_TARGETS
) -> list[Experiment]:
    """Validate every point of the sweep and derive its edits; nothing runs here.

    params/ is read once, into a scratch copy: another `mergeml exp run` queueing beside
    this one has DVC edit the workspace's params/ for a moment, and two reads of it could
    then disagree."""
    if not (params_dir / CONFIG_FILE).is_file():  # said of params/, not of the copy
        raise ConfigError(f"{params_dir}/{CONFIG_FILE} not found")
    with tempfile.TemporaryDirectory(prefix="mergeml-plan-") as scratch:
        source = Path(scratch) / "params"
        shutil.copytree(params_dir, source)
        points = expand(parse_overrides(overrides, source, allow_sweeps=True))
        planned = []
        for point in points:
            expected = compose_params(source, point, targets=targets)
            set_params = to_set_params(params_dir, point, source=source)
            if _replay(source, set_params) != expected:
                raise ConfigError(
                    f"overrides {' '.join(point)} cannot be expressed as edits of params/ "
                    "(a preset in params/experiment/ may override the same key or group)"
                )
            planned.append(Experiment(tuple(point), set_params, expected))
    return planned


Runner = Callable[..., subprocess.CompletedProcess[str]]


def dvc(args: Sequence[str], *, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the DVC CLI of this interpreter's environment, waiting for DVC's repository lock
    rather than failing on it; an interrupt stops it completely (see pipeline.child)."""
    cmd = [sys.executable, "-m", "dvc", "--wait-for-lock", *args]
    log.debug("running %s", " ".join(cmd))
    return child.run(cmd, output="capture" if capture else "relay")


Progress = Callable[[str], object]

# Where `dvc exp run --temp` copies the workspace for one experiment (tmpXXXXXXXX/).
STANDALONE = Path(".dvc") / "tmp" / "exps" / "standalone"


def _temp_copies(root: Path) -> set[Path]:
    folder = root / STANDALONE
    return set(folder.glob("tmp*")) if folder.is_dir() else set()


def run_serial(
    experiments: Sequence[Experiment],
    runner: Runner = dvc,
    progress: Progress = log.info,
    root: Path = Path(),
) -> list[str]:
    """Run each experiment in a temporary directory, one after the other.

    The workspace is left untouched; `dvc exp show` lists the results and
    `dvc exp apply NAME` brings one into the workspace. Returns the failed points.
    Interrupted (one line's worth) when a signal stops it: the running experiment is
    stopped and its temporary copy removed; finished ones are kept.
    """
    failed = []
    for i, exp in enumerate(experiments, 1):
        label = " ".join(exp.overrides) or "(no overrides)"
        progress(f"running experiment {i}/{len(experiments)}: {label}")
        args = ["exp", "run", "--temp"] + [a for s in exp.set_params for a in ("-S", s)]
        copies = _temp_copies(root)
        try:
            code = runner(args).returncode
        except KeyboardInterrupt as exc:
            for leftover in _temp_copies(root) - copies:  # DVC was killed before its cleanup
                shutil.rmtree(leftover, ignore_errors=True)
            kept = f"; {i - 1} finished experiment(s) kept (`dvc exp show`)" if i > 1 else ""
            outcome = f"experiment {i}/{len(experiments)} ({label}) stopped, nothing kept of it"
            raise Interrupted(signum_of(exc), outcome + kept) from None
        if code != 0:
            failed.append(label)
    return failed
