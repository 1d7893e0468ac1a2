"""The workspace's repro lock (pipeline.lock): waiting, telling who holds it, no stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from mergeml.pipeline.lock import LOCK_FILE, dvc_root, workspace_lock


def _hold_lock(root: Path) -> subprocess.Popen[str]:
    """A process that holds ``root``'s repro lock until it is killed."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from mergeml.pipeline.lock import workspace_lock\n"
        "with workspace_lock(Path(sys.argv[1]), print):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    return holder


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    holder = _hold_lock(tmp_path)
    assert (tmp_path / LOCK_FILE).read_text() == f"{holder.pid}\n"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    waited: list[str] = []
    with workspace_lock(tmp_path, waited.append):
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()}\n"
    assert waited == []


def test_a_waiter_is_told_the_holders_pid_once(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    holder = _hold_lock(tmp_path)
    waited: list[str] = []
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        holder.kill()

    try:
        threading.Timer(1.0, kill).start()
        with workspace_lock(tmp_path, waited.append):
            # The kernel frees the lock while the holder exits, maybe before it can be reaped:
            # what matters is that the lock came only after the kill.
            assert killed.is_set()
            assert holder.wait(timeout=10) == -signal.SIGKILL
    finally:
        holder.kill()
        holder.wait()
    assert waited == [str(holder.pid)]


def test_the_root_is_the_nearest_folder_with_a_dvc_directory(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert dvc_root(tmp_path / "a" / "b") == tmp_path.resolve()
