"""The pull-request loop, run the way ci.yml runs it: a clone of a bare origin, a branch
that changes a parameter, then params check, repro, the diff check, gate and report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import dvc, git, mergeml

pytestmark = pytest.mark.pipeline


def test_ci_commands_on_a_parameter_change_produce_the_report(
    project: Path, tmp_path: Path
) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(origin))
    storage = tmp_path / "storage"
    dvc(project, "remote", "modify", "--local", "local", "url", str(storage))
    dvc(project, "push", "--run-cache")

    # The author changes one parameter, reproduces, commits and pushes a branch.
    author = tmp_path / "author"
    git(tmp_path, "clone", "-q", str(origin), str(author))
    dvc(author, "remote", "modify", "--local", "local", "url", str(storage))
    dvc(author, "pull", "--run-cache")
    git(author, "checkout", "-q", "-b", "feature")
    model = author / "params/model/hist_gradient_boosting.yaml"
    model.write_text(model.read_text().replace("learning_rate: 0.1", "learning_rate: 0.2"))
    dvc(author, "repro")
    git(author, "add", "-A")
    git(author, "commit", "-q", "-m", "Raise the learning rate")
    git(author, "push", "-q", "origin", "feature")

    # CI: a fresh clone of the branch, the steps of ci.yml in order.
    ci = tmp_path / "ci"
    git(
        tmp_path,
        "clone",
        "-q",
        "--depth=1",
        "--branch",
        "feature",
        f"file://{origin}",
        str(ci),
    )
    dvc(ci, "remote", "modify", "--local", "local", "url", str(storage))
    assert mergeml(ci, "params", "check").returncode == 0
    dvc(ci, "pull", "--run-cache", check=False)
    dvc(ci, "repro")
    assert mergeml(ci, "verify-built").returncode == 0
    git(ci, "fetch", "-q", "--no-tags", "--depth=1", "origin", "main:refs/remotes/origin/main")
    gate = mergeml(ci, "gate", "--base", "origin/main")
    assert gate.returncode in (0, 1), gate.stderr
    assert "Traceback" not in gate.stderr
    head_sha = git(ci, "rev-parse", "HEAD")
    proc = mergeml(
        ci,
        "report",
        "--base",
        "origin/main",
        "--bundle",
        "pr-comment",
        "--pr",
        "5",
        "--head-sha",
        head_sha,
        "--out",
        "report.md",
    )
    assert proc.returncode == 0, proc.stderr
    body = (ci / "report.md").read_text()
    assert body.startswith("<!-- mergeml-report -->")
    assert "learning_rate" in body
    assert "0.1" in body
    assert "0.2" in body
    assert "xychart-beta" in body
    base_metrics = json.loads(git(author, "show", "main:reports/metrics.json"))
    head_metrics = json.loads((ci / "reports/metrics.json").read_text())
    report = json.loads(
        mergeml(ci, "report", "--base", "origin/main", "--format", "json", check=True).stdout
    )
    rows = {row["name"]: row for row in report["metrics"]["rows"]}
    for name, value in head_metrics.items():
        if isinstance(value, float):
            assert rows[name]["head"] == value
            assert rows[name]["base"] == base_metrics[name]
    meta = json.loads((ci / "pr-comment" / "meta.json").read_text())
    assert meta == {"pr": 5, "head_sha": head_sha}
    assert (ci / "pr-comment" / "body.md").read_text() == body
