"""Fixtures of the serving tests: a built project promoted to staging through a bare origin,
its outputs pushed to a shared local DVC remote. Built once per session; tests clone it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import dvc, git, mergeml, private_copy


@dataclass(frozen=True)
class Promoted:
    """Read only: clone ``origin`` (see `clone_promoted`); copy ``storage`` to change it."""

    project: Path  # the working copy that was promoted
    origin: Path  # bare
    storage: Path  # the shared DVC remote


def share(repo: Path, storage: Path) -> None:
    """Point the default remote of ``repo`` at the shared ``storage`` (this clone only)."""
    dvc(repo, "remote", "modify", "--local", "local", "url", str(storage))


def clone_promoted(origin: Path, storage: Path | None, dest: Path) -> Path:
    """A fresh clone of ``origin`` using ``storage`` as its DVC remote (None: its own)."""
    git(dest.parent, "clone", "-q", str(origin), str(dest))
    if storage is not None:
        share(dest, storage)
    return dest


@pytest.fixture(scope="session")
def promoted(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Promoted:
    """The built project pushed to a bare origin and promoted to staging (v0.1.0)."""
    root = tmp_path_factory.mktemp("promoted")
    project = private_copy(built_project, root / "project")
    origin = root / "origin.git"
    git(root, "clone", "-q", "--bare", str(project), str(origin))
    git(project, "remote", "add", "origin", str(origin))
    git(project, "fetch", "-q", "origin")
    storage = root / "storage"
    share(project, storage)
    dvc(project, "push", "-q")
    proc = mergeml(project, "promote", "staging")
    assert proc.returncode == 0, proc.stderr
    return Promoted(project, origin, storage)
