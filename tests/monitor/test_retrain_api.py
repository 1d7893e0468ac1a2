"""`mergeml retrain` from the prediction log: the synthetic drift switch opens a
retraining branch (after two windows) whose data and report come from the log; the same
traffic without drift opens nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from mergeml.api import monitor as api
from mergeml.data.synthetic import generate_transactions
from mergeml.errors import MonitorError
from tests.helpers import git, mergeml
from tests.monitor.monitor_project import NOW, TARGET, Project, labels_for, make_project, write_log
from tests.monitor.retrain_fakes import MODEL, dvc

pytestmark = pytest.mark.pipeline  # real git and DVC subprocesses
MOVED = {"amount", "distance_from_home_km", "account_age_days"}  # what drift=True shifts


def monitored(dest: Path) -> tuple[Project, Path]:
    """The monitor test project with DVC, params/ and a bare origin; (project, origin)."""
    project = make_project(dest / "repo")
    root = project.root
    dvc(root, "init", "-q")
    store = dest / "store"
    store.mkdir()
    (root / ".dvc" / "config").write_text(
        f"[core]\n    remote = store\n['remote \"store\"']\n    url = {store}\n"
    )
    (root / "params" / "data").mkdir(parents=True)
    (root / "params" / "config.yaml").write_text("defaults:\n  - data: synthetic\n")
    (root / "params" / "data" / "synthetic.yaml").write_text("source: synthetic\nextra_files: []\n")
    params = (root / "params.yaml").read_text()
    (root / "params.yaml").write_text(params + f"data:\n  target: {TARGET}\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "dvc and params")
    origin = dest / "origin.git"
    git(dest, "clone", "-q", "--bare", str(root), str(origin))
    git(root, "remote", "add", "origin", str(origin))
    return project, origin


def logged(project: Project, log: Path, *, drift: bool) -> None:
    """A day of traffic (the drift switch on or off) and its true labels."""
    from mergeml.serve.predlog import PredictionLog

    frame = generate_transactions(1000, seed=5, positive_rate=0.1, drift=drift)
    ids = write_log(log, project, frame)
    feedback = PredictionLog(str(log))
    feedback.record_feedback(labels_for(frame, ids))
    feedback.close()


def test_drift_opens_a_branch_after_two_windows(tmp_path: Path) -> None:
    project, origin = monitored(tmp_path)
    log = tmp_path / "log"
    logged(project, log, drift=True)
    first = api.retrain(stage=None, log=str(log), until=NOW.isoformat(), repo=project.root)
    assert first.breached
    assert first.action == "waiting", first.message
    until = (NOW + timedelta(days=1)).isoformat()
    second = api.retrain(stage=None, log=str(log), until=until, repo=project.root)
    assert second.action == "pushed", second.message
    report = git(origin, "show", f"retrain/{MODEL}:data/labelled/{MODEL}-2026-12-01.md")
    assert all(f"| {name} " in report or name in report for name in MOVED)
    assert "performance" in report
    data = f"data/labelled/{MODEL}-2026-12-01.parquet"
    assert data + ".dvc" in git(origin, "ls-tree", "-r", "--name-only", f"retrain/{MODEL}")


def test_without_drift_nothing_is_opened(tmp_path: Path) -> None:
    project, origin = monitored(tmp_path)
    log = tmp_path / "log"
    logged(project, log, drift=False)
    for day in (0, 1):
        until = (NOW + timedelta(days=day)).isoformat()
        outcome = api.retrain(stage=None, log=str(log), until=until, repo=project.root)
        assert not outcome.breached
        assert outcome.action == "recorded", outcome.message
    assert git(origin, "branch", "--list", "retrain/*") == ""
    state = json.loads(git(origin, "show", f"refs/mergeml/monitor/{MODEL}:state.json"))
    assert [w["breached"] for w in state["windows"]] == [False, False]


def test_a_bad_remote_is_one_line_and_exit_two(tmp_path: Path) -> None:
    proc = mergeml(tmp_path, "retrain", "--remote=-uhoh", "--until", NOW.isoformat())
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "'-uhoh'" in proc.stderr
    assert proc.stdout == ""


def test_a_breach_without_a_log_is_an_error(tmp_path: Path) -> None:
    project, _ = monitored(tmp_path)
    with pytest.raises(MonitorError, match="no predictions"):
        api.retrain(
            stage=None, log=str(tmp_path / "empty"), until=NOW.isoformat(), repo=project.root
        )
