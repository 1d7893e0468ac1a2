"""`make` keeps DVC's per-repository state in the checkout, not /var/tmp/dvc (issue 10, #19).

Each test runs DVC through this repository's Makefile (a probe rule added with
``--eval``, under the variables the Makefile exports) in a fresh git + DVC repository.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import dvc, git
from tests.projects import ROOT

PROBE = "from dvc.repo import Repo; print(Repo().site_cache_dir)"


def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    dvc(repo, "init", "-q")
    shutil.copy2(ROOT / "Makefile", repo / "Makefile")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "project")
    return repo


def dvc_under_make(repo: Path, site_cache: Path | None) -> Path:
    """Run `dvc status` as a recipe of the Makefile; DVC's site cache folder there.

    ``site_cache`` is the DVC_SITE_CACHE_DIR of the caller's environment (None: unset).
    """
    env = {k: v for k, v in os.environ.items() if k != "DVC_SITE_CACHE_DIR"}
    if site_cache is not None:
        env["DVC_SITE_CACHE_DIR"] = str(site_cache)
    python = shlex.quote(sys.executable)
    rule = f"probe:\n\t@{python} -m dvc status -q && {python} -c {shlex.quote(PROBE)}\n"
    cmd = ["make", "-s", "--no-print-directory", "--eval", rule, "probe"]
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip())


def test_make_keeps_dvc_state_in_the_checkout_and_git_clean(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    used = dvc_under_make(repo, None)
    assert used.is_relative_to(repo / ".dvc" / "tmp"), used
    assert any((repo / ".dvc" / "tmp" / "site-cache" / "repo").iterdir())
    assert git(repo, "status", "--porcelain") == ""


def test_a_site_cache_folder_the_user_exports_wins(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    chosen = tmp_path / "fake-var-tmp" / "dvc"
    used = dvc_under_make(repo, chosen)
    assert used.is_relative_to(chosen)
    assert any((chosen / "repo").iterdir())
    assert not (repo / ".dvc" / "tmp" / "site-cache").exists()
