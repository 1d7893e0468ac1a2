"""`mergeml repro`: `dvc repro` under a numeric mode, one run at a time per workspace."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mergeml.errors import Interrupted, signum_of
from mergeml.pipeline import child
from mergeml.pipeline.lock import dvc_root, workspace_lock
from mergeml.pipeline.numerics import Mode, build_env


def run_repro(
    mode: Mode, dvc_args: Sequence[str], on_wait: Callable[[str], object], cwd: Path = Path()
) -> int:
    """Run `dvc repro DVC_ARGS` holding the workspace's repro lock; DVC's exit code.

    ``on_wait(pid)`` is called once when another `mergeml repro` holds the lock. DVC
    writes to the terminal itself; it holds the lock too, so a killed mergeml does not
    let a second run start beside a DVC that still runs. Interrupted after a signal.
    """
    cmd = [sys.executable, "-m", "dvc", "repro", *dvc_args]
    env = build_env(mode, os.environ)
    root = dvc_root(cwd)
    try:
        if root is None:  # not in a DVC project: DVC says so in its own words
            return child.run(cmd, output="inherit", env=env).returncode
        # DVC's per-repository state stays in the workspace, not in /var/tmp/dvc (as make).
        env.setdefault("DVC_SITE_CACHE_DIR", str(root / ".dvc" / "tmp" / "site-cache"))
        with workspace_lock(root, on_wait) as fd:
            return child.run(cmd, output="inherit", env=env, pass_fds=(fd,)).returncode
    except KeyboardInterrupt as exc:
        outcome = "dvc repro stopped; dvc.lock records the stages that had finished"
        raise Interrupted(signum_of(exc), outcome) from None
