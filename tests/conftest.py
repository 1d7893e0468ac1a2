"""Shared fixtures and session hooks; the helpers themselves live in tests/helpers.py.

Importing this module changes nothing: the test environment is isolated in
``pytest_configure``, which runs in every test process (xdist workers included) before
any test module is collected, so every subprocess a test starts runs isolated too.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.helpers import dvc, git, isolated_environment, make_project, private_copy

# Fixtures that build real git + DVC projects: a test that uses one is slow (`pipeline`).
REAL_PROJECT_FIXTURES = frozenset({"built_project", "project", "fresh_project"})

_ISOLATION = pytest.StashKey[tuple[Path, dict[str, str]]]()


def pytest_configure(config: pytest.Config) -> None:
    """Isolate this process from the developer's machine: identity, HOME, DVC state."""
    state = Path(tempfile.mkdtemp(prefix="mergeml-tests-"))
    config.stash[_ISOLATION] = (state, dict(os.environ))
    isolated = isolated_environment(state, dict(os.environ))
    os.environ.clear()
    os.environ.update(isolated)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give the process its environment back and remove the scratch state."""
    isolation = config.stash.get(_ISOLATION, None)
    if isolation is None:
        return
    state, saved = isolation
    os.environ.clear()
    os.environ.update(saved)
    shutil.rmtree(state, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that builds a real DVC project as slow (`pipeline`)."""
    for item in items:
        if REAL_PROJECT_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pipeline)


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


@pytest.fixture
def project(built_project: Path, tmp_path: Path) -> Path:
    """A private copy of the built project."""
    return private_copy(built_project, tmp_path / "repo")


@pytest.fixture
def fresh_project(tmp_path: Path) -> Path:
    """A tiny project with no outputs yet."""
    return make_project(tmp_path / "fresh")
