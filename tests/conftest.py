"""Shared fixtures and session hooks; the helpers themselves live in tests/helpers.py.

Importing this module changes nothing: the test environment is isolated in
``pytest_configure``, which runs in every test process (xdist workers included) before
any test module is collected, so every subprocess a test starts runs isolated too.

A session keeps everything it writes in one ``mergeml-tests-*`` folder of ``$TMPDIR``:
the test HOME, DVC's site cache, pytest's ``tmp_path`` folders and ``$TMPDIR`` itself for
the tests and their subprocesses. The folder is removed when the session ends, also on
SIGTERM; one left by a killed session is removed by the next session. To keep the
``tmp_path`` folders of a failed run, give pytest ``--basetemp=DIR``.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from tests.helpers import (
    dvc,
    git,
    isolated_environment,
    make_project,
    private_copy,
    reap_dead_sessions,
    session_scratch,
)

# Fixtures that build real git + DVC projects: a test that uses one is slow (`pipeline`).
REAL_PROJECT_FIXTURES = frozenset({"built_project", "project", "fresh_project", "promoted"})


class _Isolation:
    """What ``pytest_configure`` changed, so that ``pytest_unconfigure`` can undo it."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.environ = dict(os.environ)
        self.tempdir = tempfile.tempdir
        self.sigterm = signal.getsignal(signal.SIGTERM)


_ISOLATION = pytest.StashKey[_Isolation]()


def _interrupt(signum: int, _frame: object) -> None:
    """SIGTERM ends the session as Ctrl-C does, so that the scratch folder is removed."""
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(tryfirst=True)  # before pytest picks its base temporary directory
def pytest_configure(config: pytest.Config) -> None:
    """Isolate this process from the developer's machine: identity, HOME, DVC state, TMPDIR."""
    reap_dead_sessions(Path(tempfile.gettempdir()))
    isolation = _Isolation(session_scratch())
    config.stash[_ISOLATION] = isolation
    isolated = isolated_environment(isolation.state, dict(os.environ))
    os.environ.clear()
    os.environ.update(isolated)
    tempfile.tempdir = isolated["TMPDIR"]  # pytest's tmp_path folders go there too
    if isolation.sigterm == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give the process its environment back and remove the scratch state."""
    isolation = config.stash.get(_ISOLATION, None)
    if isolation is None:
        return
    os.environ.clear()
    os.environ.update(isolation.environ)
    tempfile.tempdir = isolation.tempdir
    if signal.getsignal(signal.SIGTERM) is _interrupt:
        signal.signal(signal.SIGTERM, isolation.sigterm)
    shutil.rmtree(isolation.state, ignore_errors=True)


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
