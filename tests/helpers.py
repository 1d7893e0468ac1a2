"""Test helpers: an isolated environment, subprocesses, real git repos and DVC projects.

A plain module (no fixtures, no side effects on import): tests import what they use from
here. conftest.py applies ``isolated_environment`` once per test process, before any test
module is collected, so every subprocess these helpers start runs isolated too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.projects import TINY, copy_dvc_config, copy_project

BIN = str(Path(sys.executable).parent)
# Never sent to a proxy: the fake GitHub servers listen on loopback.
LOOPBACK = ("127.0.0.1", "localhost", "::1")
THREAD_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


SESSION_PREFIX = "mergeml-tests-"
OWNER_FILE = "owner.pid"


def session_scratch() -> Path:
    """A new ``mergeml-tests-*`` folder in ``$TMPDIR`` that records the owning process."""
    state = Path(tempfile.mkdtemp(prefix=SESSION_PREFIX))
    (state / OWNER_FILE).write_text(f"{os.getpid()}\n")
    return state


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def reap_dead_sessions(tmpdir: Path) -> list[Path]:
    """Remove the scratch folders in ``tmpdir`` whose test process is gone (a SIGKILL).

    A folder whose owner file is missing or unreadable is left alone.
    """
    reaped = []
    for state in tmpdir.glob(f"{SESSION_PREFIX}*"):
        try:
            pid = int((state / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(state, ignore_errors=True)
            reaped.append(state)
    return reaped


def isolated_environment(state: Path, environ: dict[str, str]) -> dict[str, str]:
    """``environ`` cut off from the developer's machine: identity, HOME, DVC state, proxies,
    temporary files and thread counts.

    ``state`` is an empty scratch directory that holds the test HOME, the git config, DVC's
    site cache and the ``TMPDIR`` of the tests and every subprocess they start.
    """
    (state / "home").mkdir(exist_ok=True)
    (state / "tmp").mkdir(exist_ok=True)
    (state / "gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        '[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n'
    )
    git_overrides = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
    env = {k: v for k, v in environ.items() if k not in git_overrides}
    bypass = [h for h in env.get("no_proxy", env.get("NO_PROXY", "")).split(",") if h]
    bypass += [h for h in LOOPBACK if h not in bypass]
    env.update(
        {
            "HOME": str(state / "home"),
            "GIT_CONFIG_GLOBAL": str(state / "gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(state / "dvc-site-cache"),
            "TMPDIR": str(state / "tmp"),
            "PATH": BIN + os.pathsep + environ.get("PATH", ""),
            "no_proxy": ",".join(bypass),
            "NO_PROXY": ",".join(bypass),
            # One thread per process: xdist runs a process per core, and OpenMP or BLAS
            # threads on top of that spin for cores they never get (3x slower). Stages
            # still fit with the `threads` that params.yaml fixes (model/threads.py).
            **dict.fromkeys(THREAD_LIMITS, "1"),
        }
    )
    return env


def run(
    args: Sequence[str], cwd: Path, *, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command; on unexpected failure show its output in the assertion."""
    proc = subprocess.run(
        list(args),
        cwd=cwd,
        text=True,
        capture_output=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def git(cwd: Path, *args: str, check: bool = True) -> str:
    return run(["git", *args], cwd, check=check).stdout.strip()


def dvc(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "dvc", *args], cwd, check=check)


def mergeml(cwd: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "mergeml", *args], cwd, check=check)


def make_project(dest: Path, *, tiny: bool = True) -> Path:
    """A fresh git + DVC project holding this repository's pipeline (no outputs yet)."""
    copy_project(dest, TINY if tiny else {})
    git(dest, "init", "-q", "-b", "main")
    dvc(dest, "init", "-q")
    copy_dvc_config(dest)
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "project")
    return dest


def private_copy(repo: Path, dest: Path) -> Path:
    """A copy of ``repo`` (git history, DVC cache and outputs) that a test may change."""
    shutil.copytree(repo, dest, symlinks=True)
    return dest


def processes_in(path: Path) -> list[str]:
    """Command lines of live processes whose working directory is inside ``path``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = Path(os.readlink(proc / "cwd"))
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cwd == path or path in cwd.parents:
            found.append(f"{proc.name}: {cmdline}")
    return found
