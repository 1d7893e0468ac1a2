"""`mergeml gate` in a real repository: pass against itself, fail cleanly on bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import git, mergeml

pytestmark = pytest.mark.pipeline


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("mergeml: error:"), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_main_passes_against_itself(project: Path) -> None:
    proc = mergeml(project, "gate", "--base", "main")
    assert proc.returncode == 0, proc.stderr
    assert "vs_base" in proc.stdout
    assert "FAIL" not in proc.stdout
    results = json.loads(mergeml(project, "gate", "--base", "main", "--json").stdout)
    assert {r["status"] for r in results if r["rule"] == "vs_base"} == {"pass"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"roc_auc": NaN, "average_precision": 0.5}', "min roc_auc"),
        ('{"roc_auc": 0.9', "not valid JSON"),
        ('{"accuracy": 0.9}', "min roc_auc"),
    ],
)
def test_bad_workspace_metrics_fail_without_a_traceback(
    project: Path, content: str, expected: str
) -> None:
    (project / "reports/metrics.json").write_text(content)
    proc = mergeml(project, "gate", "--base", "main")
    assert proc.returncode == 1
    assert expected in one_error_line(proc.stderr)


def test_a_missing_metrics_file_fails(project: Path) -> None:
    (project / "reports/metrics.json").unlink()
    proc = mergeml(project, "gate")
    assert proc.returncode == 1
    assert "metrics file not found" in one_error_line(proc.stderr)


def test_a_regression_against_the_base_fails(project: Path) -> None:
    path = project / "reports/metrics.json"
    metrics = json.loads(path.read_text())
    metrics["roc_auc"] -= 0.05
    path.write_text(json.dumps(metrics))
    proc = mergeml(project, "gate", "--base", "main")
    assert proc.returncode == 1
    assert "vs_base roc_auc" in one_error_line(proc.stderr)


def test_an_unknown_base_ref_says_what_to_fetch(project: Path) -> None:
    proc = mergeml(project, "gate", "--base", "nope")
    assert proc.returncode == 1
    assert "git fetch" in one_error_line(proc.stderr)


def test_against_a_stage_uses_the_release_branch(project: Path) -> None:
    assert "release/staging" in one_error_line(
        mergeml(project, "gate", "--against", "staging").stderr
    )
    git(project, "branch", "release/staging")
    assert mergeml(project, "gate", "--against", "staging").returncode == 0


def test_verify_built_names_outputs_that_differ_from_the_commit(project: Path) -> None:
    assert mergeml(project, "verify-built").returncode == 0
    (project / "reports/metrics.json").write_text("{}")
    (project / "reports/new.json").write_text("{}")
    proc = mergeml(project, "verify-built")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "reports/metrics.json" in line
    assert "reports/new.json" in line
