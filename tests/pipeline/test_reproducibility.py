"""A fresh clone reproduces exactly what is committed: `git status` stays empty."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import dvc, git, mergeml
from tests.projects import ROOT

pytestmark = pytest.mark.pipeline


def clone_working_tree(dest: Path) -> Path:
    """Every file git tracks, as it is in the working tree, committed in a new repo."""
    listed = git(ROOT, "ls-files", "-z").split("\0")
    files = [f for f in listed if f and (ROOT / f).is_file()]
    assert "dvc.lock" in files, "dvc.lock must be committed"
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "clone")
    return dest


def test_default_repro_in_a_fresh_clone_reproduces_every_tracked_byte(tmp_path: Path) -> None:
    repo = clone_working_tree(tmp_path / "clone")
    assert mergeml(repo, "params", "check").returncode == 0
    dvc(repo, "repro")
    changed = git(repo, "status", "--porcelain")
    assert changed == "", (
        "params.yaml, dvc.lock or reports/ differ from what is committed; run `make repro` "
        f"and commit the results:\n{changed}\n{git(repo, 'diff', '--stat')}"
    )
    assert "up to date" in dvc(repo, "status").stdout
