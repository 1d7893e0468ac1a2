"""`mergeml repro` twice at once in one workspace: the second waits, both succeed (C5)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.helpers import dvc

pytestmark = pytest.mark.pipeline

STAGES = ["compose", "prepare", "train", "schema", "profile", "evaluate"]
WAITING = "waiting for another mergeml repro in this workspace"


def start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mergeml", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(condition: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_two_repros_at_once_both_succeed_and_the_lock_file_holds_every_stage(
    fresh_project: Path,
) -> None:
    repo = fresh_project
    first = start(repo, "repro")
    # params.yaml appears when `compose` has run: the first is now inside later stages,
    # which read params.yaml (a bare `dvc repro` now fails: "params.yaml is busy").
    wait_for(lambda: (repo / "params.yaml").exists() or first.poll() is not None)
    assert first.poll() is None, "the first run ended before the second could start"
    second = start(repo, "repro")
    out2, err2 = second.communicate(timeout=600)
    out1, err1 = first.communicate(timeout=600)

    assert first.returncode == 0, out1 + err1
    assert second.returncode == 0, out2 + err2
    waits = [line for line in err2.splitlines() if WAITING in line]
    assert waits == [f"mergeml repro: {WAITING} (pid {first.pid})..."]
    assert WAITING not in err1
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert sorted(lock["stages"]) == sorted(STAGES)
    assert "Data and pipelines are up to date." in dvc(repo, "status").stdout
