"""Ctrl-C in `mergeml exp run`: one line, exit 130, no temporary copy or process left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import processes_in
from tests.pipeline.test_experiments import assert_workspace_unchanged, exp_params, snapshot

pytestmark = pytest.mark.pipeline


def standalone(repo: Path) -> Path:
    """Where `dvc exp run --temp` puts an experiment's temporary copy of the workspace."""
    return repo / ".dvc" / "tmp" / "exps" / "standalone"


def temp_copies(repo: Path) -> list[Path]:
    return sorted(standalone(repo).glob("tmp*")) if standalone(repo).is_dir() else []


def stage_running(repo: Path, script: str) -> bool:
    """A process runs ``pipelines/<script>`` in an experiment's temporary copy."""
    return any(f"pipelines/{script}" in cmd for cmd in processes_in(standalone(repo)))


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("moment", ["copying", "training"])
def test_ctrl_c_prints_one_line_and_leaves_nothing_behind(project: Path, moment: str) -> None:
    before = snapshot(project)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mergeml", "exp", "run", "model.max_iter=5"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell runs a job
    )
    if moment == "copying":  # DVC itself is busy: stashing, copying the workspace
        wait_for(lambda: bool(temp_copies(project)), proc)
    else:  # a stage command runs
        wait_for(lambda: stage_running(project, "train.py"), proc)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends for Ctrl-C
    out, err = proc.communicate(timeout=180)

    assert proc.returncode == 130, out + err
    # exactly one line: no blank line from click before it
    assert err.splitlines() == [
        "mergeml: interrupted: experiment 1/1 (model.max_iter=5) stopped, nothing kept of it"
    ]
    assert temp_copies(project) == []
    assert processes_in(project) == []
    assert exp_params(project) == {}
    assert_workspace_unchanged(project, before)
