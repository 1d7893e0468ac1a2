"""One `mergeml repro` at a time per workspace: an exclusive lock on a file under .dvc/tmp/.

Two `dvc repro` in one workspace cannot wait for each other: DVC releases its repository
lock (the only lock `--wait-for-lock` waits for) while a stage's command runs, and the
per-file locks that guard each stage's dependencies and outputs (.dvc/tmp/rwlock) fail at
once. This lock serialises whole runs instead. It is an `flock`, so the kernel releases it
when its holders exit, however they exit: a killed run never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = Path(".dvc") / "tmp" / "mergeml-repro.lock"


def dvc_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` that holds a ``.dvc`` directory."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".dvc").is_dir():
            return folder
    return None


def _holder(fd: int) -> str:
    """The pid the lock's current holder wrote into the file ("?" while it has not yet)."""
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return text if text.isdigit() else "?"


@contextmanager
def workspace_lock(root: Path, on_wait: Callable[[str], object]) -> Iterator[int]:
    """Hold the workspace's repro lock; yields its file descriptor (pass it to children
    with ``pass_fds`` to keep the lock held while they live).

    When another process holds it, ``on_wait(pid)`` is called once, then this waits.
    """
    path = root / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(_holder(fd))
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield fd
    finally:
        os.close(fd)  # closing the last descriptor releases the lock
