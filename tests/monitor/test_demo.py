"""The end-to-end demo (demo/monitor_loop.py, `make demo`) on small sizes: with the drift
switch on it pushes a retraining branch whose report names the features the switch moves;
with it off it pushes nothing. One demo run (both scenarios) for the module, reusing the
session's built project."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import git

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "monitor_loop.py"
BRANCH = "retrain/tabular-model"
MOVED = {
    "amount",
    "distance_from_home_km",
    "account_age_days",
    "txn_count_24h",
    "channel",
    "country",
}

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def demo(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The scratch directory after one demo run, and what it printed."""
    scratch = tmp_path_factory.mktemp("demo") / "scratch"
    args = [sys.executable, str(DEMO), "--dir", str(scratch), "--rows", "1500"]
    done = subprocess.run(
        [*args, "--built", str(built_project)], capture_output=True, text=True, timeout=300
    )
    assert "scenario 2: drift OFF" in done.stdout, done.stdout + done.stderr
    return scratch, done.stdout


def branches(origin: Path) -> list[str]:
    return git(origin, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split()


def drifted_in(report: str) -> set[str]:
    """The features whose drift column says yes in the report's Markdown table."""
    return {row.split("|")[1].strip() for row in report.splitlines() if "| yes |" in row}


def test_drift_on_pushes_a_retraining_branch_naming_the_moved_features(
    demo: tuple[Path, str],
) -> None:
    scratch, out = demo
    origin = scratch / "drift-on" / "origin.git"
    assert BRANCH in branches(origin), out
    files = git(origin, "ls-tree", "-r", "--name-only", BRANCH, "data/labelled").split()
    (report,) = [
        f for f in files if f.startswith("data/labelled/tabular-model-") and f.endswith(".md")
    ]
    text = git(origin, "show", f"{BRANCH}:{report}")
    assert drifted_in(text) - {"score"} == MOVED
    assert "## Model performance" in text
    assert any(f.endswith(".parquet.dvc") for f in files)
    log = git(origin, "log", "--format=%s", f"main..{BRANCH}")
    assert "Retrain tabular-model" in log
    assert "breach 1 of 2 in a row" in out  # the first window only waits (debounce)


def test_drift_off_pushes_nothing(demo: tuple[Path, str]) -> None:
    scratch, out = demo
    origin = scratch / "drift-off" / "origin.git"
    assert BRANCH not in branches(origin), out
    assert "drift OFF opened nothing: yes" in out
