"""A test session leaves nothing behind in its TMPDIR (issue 10, #19).

Each test runs a tiny pytest session in a subprocess, with this suite's conftest and a
private TMPDIR, and looks at what is left there afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import OWNER_FILE, SESSION_PREFIX
from tests.projects import ROOT

TINY_TESTS = """
import os, tempfile, time
from pathlib import Path

def test_writes_where_tests_write(tmp_path):
    (tmp_path / "out.txt").write_text("x")
    Path(tempfile.mkdtemp(prefix="left-by-a-test-"), "y").write_text("y")
    Path(os.environ["DVC_SITE_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(os.environ["HOME"], ".cache").mkdir()

def test_waits_when_asked(tmp_path):
    ready = os.environ.get("SESSION_READY")
    if ready:
        Path(ready).write_text(str(tmp_path))
        time.sleep(60)
"""


def tiny_session(
    tmp_path: Path, *args: str, ready: Path | None = None
) -> tuple[subprocess.Popen[str], Path]:
    """Start ``pytest`` on TINY_TESTS with this suite's conftest and a private TMPDIR."""
    tests = tmp_path / "tiny"
    tests.mkdir()
    (tests / "test_tiny.py").write_text(TINY_TESTS)
    private = tmp_path / "private-tmp"
    private.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(private), "PYTHONPATH": str(ROOT)}
    if ready is not None:
        env["SESSION_READY"] = str(ready)
    cmd = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider"]
    cmd += ["-q", "--rootdir", str(tests), *args, str(tests)]
    proc = subprocess.Popen(cmd, cwd=tests, env=env, text=True, stdout=subprocess.PIPE)
    return proc, private


def left_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


XDIST = pytest.param(["-n", "2"], id="xdist", marks=pytest.mark.pipeline)  # slow: 2 workers


@pytest.mark.parametrize("workers", [pytest.param([], id="serial"), XDIST])
def test_a_session_leaves_nothing_in_its_tmpdir(tmp_path: Path, workers: list[str]) -> None:
    proc, private = tiny_session(tmp_path, *workers)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert "2 passed" in out
    assert left_in(private) == []


def test_a_session_ended_by_sigterm_leaves_nothing(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    proc, private = tiny_session(tmp_path, ready=ready)
    deadline = time.monotonic() + 60
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "the tiny session never reached its waiting test"
    assert Path(ready.read_text()).is_relative_to(private)  # tmp_path is in the scratch
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert left_in(private) == []


def test_the_folder_of_a_killed_session_is_removed_by_the_next(tmp_path: Path) -> None:
    private = tmp_path / "private-tmp"
    dead, alive, unknown = (private / f"{SESSION_PREFIX}{name}" for name in "dau")
    for state in (dead, alive, unknown):
        (state / "home").mkdir(parents=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (dead / OWNER_FILE).write_text(f"{gone.pid}\n")
    (alive / OWNER_FILE).write_text(f"{os.getpid()}\n")
    proc, _ = tiny_session(tmp_path)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert sorted(p.name for p in private.iterdir()) == [alive.name, unknown.name]
