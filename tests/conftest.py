"""Shared fixtures: an isolated environment, real git repos and real DVC projects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.projects import TINY, copy_dvc_config, copy_project

BIN = str(Path(sys.executable).parent)

# Isolate every test process from the developer's machine: identity, HOME, DVC state.
_STATE = Path(tempfile.mkdtemp(prefix="mergeml-tests-"))
(_STATE / "home").mkdir()
(_STATE / "gitconfig").write_text(
    "[user]\n\tname = Test User\n\temail = test@example.com\n"
    '[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n'
)
os.environ.update(
    {
        "HOME": str(_STATE / "home"),
        "GIT_CONFIG_GLOBAL": str(_STATE / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(_STATE / "dvc-site-cache"),
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
    }
)
for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
    os.environ.pop(var, None)


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


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny project after one real `dvc repro`, committed (outputs in its DVC cache).

    Tests copy it (see `project`) rather than change it.
    """
    path = make_project(tmp_path_factory.mktemp("template") / "repo")
    dvc(path, "repro")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "repro")
    return path


def private_copy(repo: Path, dest: Path) -> Path:
    """A copy of ``repo`` (git history, DVC cache and outputs) that a test may change."""
    shutil.copytree(repo, dest, symlinks=True)
    return dest


@pytest.fixture
def project(built_project: Path, tmp_path: Path) -> Path:
    """A private copy of the built project."""
    return private_copy(built_project, tmp_path / "repo")


@pytest.fixture
def fresh_project(tmp_path: Path) -> Path:
    """A tiny project with no outputs yet."""
    return make_project(tmp_path / "fresh")
