"""Fixtures of the pipeline tests that run DVC's experiment queue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import dvc, processes_in


@pytest.fixture
def queue_stopped(project: Path) -> Iterator[Path]:
    """Whatever the test does, no DVC queue worker is left running in ``project``."""
    try:
        yield project
    finally:
        dvc(project, "queue", "stop", "--kill", check=False)
        deadline = time.monotonic() + 60
        while processes_in(project) and time.monotonic() < deadline:
            time.sleep(1)
        assert processes_in(project) == [], "DVC queue workers are still running"
