"""The promotion and release workflows: inputs, gates, serialisation, and who may write."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.projects import ROOT
from tests.workflows.test_workflows import WORKFLOWS, load

FLOWS = ROOT / ".github" / "workflows"
PROMOTE = load(FLOWS / "promote.yml")
RELEASE = load(FLOWS / "release.yml")
CI = load(FLOWS / "ci.yml")
UNTRUSTED = re.compile(r"\$\{\{[^}]*\b(inputs\.|github\.event\.)")
# Where an expression may be expanded by GitHub without reaching a shell.
INERT_KEYS = {"if", "environment", "group"}


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string in a workflow with the keys that lead to it."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, path)
    elif isinstance(node, str):
        yield path, node


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def runs(workflow: dict, job: str) -> list[str]:
    return [s["run"] for s in steps(workflow, job) if "run" in s]


def test_promote_is_dispatched_with_a_stage_choice_a_rev_and_a_message() -> None:
    assert set(PROMOTE["on"]) == {"workflow_dispatch"}
    inputs = PROMOTE["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"stage", "rev", "message"}
    assert inputs["stage"]["type"] == "choice"
    assert inputs["stage"]["options"] == ["staging", "production"]
    assert inputs["stage"]["required"] is True
    assert (inputs["rev"]["type"], inputs["rev"]["default"]) == ("string", "main")
    assert inputs["message"]["type"] == "string"
    assert inputs["message"].get("required", False) is False


def test_promote_runs_in_the_environment_named_after_the_stage() -> None:
    assert PROMOTE["jobs"]["promote"]["environment"] == "${{ inputs.stage }}"


def test_promote_runs_the_policy_checked_command_with_every_input_from_env() -> None:
    (step,) = [s for s in steps(PROMOTE, "promote") if "mergeml promote" in s.get("run", "")]
    assert step["run"] == ('.venv/bin/mergeml promote "$STAGE" --rev "$REV" --message "$MESSAGE"')
    assert step["env"] == {
        "STAGE": "${{ inputs.stage }}",
        "REV": "${{ inputs.rev }}",
        "MESSAGE": "${{ inputs.message }}",
    }
    identity = PROMOTE["jobs"]["promote"]["env"]
    assert identity["GIT_COMMITTER_NAME"] == "github-actions[bot]"
    assert identity["GIT_AUTHOR_EMAIL"].endswith("+github-actions[bot]@users.noreply.github.com")


@pytest.mark.parametrize(
    ("workflow", "group"),
    [
        (PROMOTE, "promote-${{ inputs.stage }}"),
        (RELEASE, "${{ inputs.stage && format('release/{0}', inputs.stage) || github.ref_name }}"),
    ],
    ids=["promote", "release"],
)
def test_one_concurrency_group_per_stage_that_never_cancels_a_run(
    workflow: dict, group: str
) -> None:
    assert workflow["concurrency"] == {"group": group, "cancel-in-progress": False}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_inputs_and_event_values_reach_run_only_through_env(path: Any) -> None:
    for keys, text in walk(load(path)):
        if keys and keys[-1] == "run":
            assert "${{" not in text, f"{path.name}: expression in run: {text!r}"
        elif UNTRUSTED.search(text):
            inert = "env" in keys or "with" in keys or keys[-1] in INERT_KEYS
            assert inert, f"{path.name}: {'.'.join(keys)} expands {text!r}"


def test_only_promote_and_release_may_write_contents() -> None:
    writers = set()
    for path in WORKFLOWS:
        data = load(path)
        scopes = [data.get("permissions") or {}]
        scopes += [job.get("permissions") or {} for job in data["jobs"].values()]
        if any(s.get("contents") == "write" for s in scopes):
            writers.add(path.name)
    assert writers == {"promote.yml", "release.yml", "monitor.yml"}  # monitor: retrain/*
    assert PROMOTE["permissions"] == RELEASE["permissions"] == {}
    assert RELEASE["jobs"]["release"]["permissions"] == {"contents": "write"}
    assert PROMOTE["jobs"]["promote"]["permissions"] == {"contents": "write"}


def test_release_runs_on_release_branches_and_when_called_with_a_stage() -> None:
    assert RELEASE["on"]["push"] == {"branches": ["release/**"]}
    assert RELEASE["on"]["workflow_call"]["inputs"] == {
        "stage": {
            "description": RELEASE["on"]["workflow_call"]["inputs"]["stage"]["description"],
            "type": "string",
            "required": True,
        }
    }
    assert set(RELEASE["on"]) == {"push", "workflow_call"}


def test_promote_calls_release_after_its_push() -> None:
    call = PROMOTE["jobs"]["release"]
    assert call["uses"] == "./.github/workflows/release.yml"
    assert call["needs"] == "promote"
    assert call["with"] == {"stage": "${{ inputs.stage }}"}
    assert call["permissions"] == {"contents": "write", "packages": "write"}  # + deploy.yml


def test_release_checks_the_remote_then_tags_then_publishes_the_card() -> None:
    commands = runs(RELEASE, "release")
    order = [
        ".venv/bin/dvc pull models/model.skops",
        '.venv/bin/mergeml release-tags "$STAGE"',
        '.venv/bin/mergeml card --rev "$TAG" --out model-card.md',
        '.venv/bin/mergeml publish-release --repo "$REPO" --tag "$TAG" --notes-file model-card.md',
    ]
    found = [next(i for i, c in enumerate(commands) if want in c) for want in order]
    assert found == sorted(found)
    tags = next(s for s in steps(RELEASE, "release") if "release-tags" in s.get("run", ""))
    assert 'echo "tag=$tag" >> "$GITHUB_OUTPUT"' in tags["run"]
    publish = next(s for s in steps(RELEASE, "release") if "publish-release" in s.get("run", ""))
    assert publish["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert publish["env"]["TAG"] == "${{ steps.tags.outputs.tag }}"


@pytest.mark.parametrize("workflow", [PROMOTE, RELEASE], ids=["promote", "release"])
def test_what_ships_is_what_was_reviewed(workflow: dict) -> None:
    for job in workflow["jobs"].values():
        for command in [s.get("run", "") for s in job.get("steps", [])]:
            assert "repro" not in command, command
            assert "GITHUB_ENV" not in command
            assert "GITHUB_PATH" not in command


def test_release_uploads_only_the_model_card() -> None:
    uploads = [
        s for s in steps(RELEASE, "release") if s.get("uses", "").startswith("actions/upload-")
    ]
    assert [u["with"]["path"] for u in uploads] == ["model-card.md"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_only_the_pushing_workflows_keep_credentials_with_full_history(path: Any) -> None:
    pushes = path.name in {"promote.yml", "release.yml", "monitor.yml"}
    for job in load(path)["jobs"].values():
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is pushes, path.name
                if pushes:
                    assert step["with"]["fetch-depth"] == 0


def test_ci_dry_runs_the_promotion_of_a_pull_request_into_a_release_branch() -> None:
    names = [s.get("name", "") for s in steps(CI, "test")]
    (step,) = [s for s in steps(CI, "test") if "--dry-run" in s.get("run", "")]
    assert step["if"] == (
        "github.event_name == 'pull_request' && startsWith(github.base_ref, 'release/')"
    )
    assert step["run"] == (
        '.venv/bin/mergeml promote "${BASE_REF#release/}" --rev "$HEAD_SHA" --dry-run'
    )
    assert step["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert step["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    # Full history for release pull requests, and the check runs before the shallow
    # `git fetch --depth=1` of the base, which would cut the ancestry it walks.
    checkout = steps(CI, "test")[0]["with"]
    assert checkout["fetch-depth"] == "${{ !startsWith(github.base_ref, 'release/') && 1 || 0 }}"
    assert names.index(step["name"]) < names.index("Fetch the base branch")


def test_a_release_pull_request_whose_merge_mixes_trees_fails(tmp_path: Path) -> None:
    """Run ci.yml's tree check on GitHub-like test merges: exact tree passes, a mix fails."""
    import subprocess

    (step,) = [s for s in steps(CI, "test") if s.get("name", "").startswith("The merge gives")]
    repo = tmp_path / "repo"
    repo.mkdir()

    def sh(*args: str) -> str:
        return subprocess.run(
            args, cwd=repo, text=True, capture_output=True, check=True
        ).stdout.strip()

    sh("git", "init", "-q", "-b", "main")
    (repo / "model.txt").write_text("v1\n")
    sh("git", "add", "-A")
    sh("git", "commit", "-q", "-m", "v1")
    sh("git", "branch", "release/production")
    (repo / "model.txt").write_text("v2\n")
    sh("git", "commit", "-q", "-am", "v2")
    head = sh("git", "rev-parse", "HEAD")

    def check(merge_base_branch: str) -> subprocess.CompletedProcess[str]:
        sh("git", "checkout", "-q", "--detach", merge_base_branch)
        sh("git", "merge", "-q", "--no-ff", "-m", "test merge", head)
        env = {**os.environ, "BASE_REF": "release/production", "HEAD_SHA": head}
        return subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=repo, env=env, text=True, capture_output=True
        )

    assert check("release/production").returncode == 0  # a clean promotion merge
    # The release branch carries a change of its own (as after a rollback merge).
    sh("git", "checkout", "-q", "release/production")
    (repo / "rollback.txt").write_text("v1 again\n")
    sh("git", "add", "-A")
    sh("git", "commit", "-q", "-m", "own change")
    mixed = check("release/production")
    assert mixed.returncode == 1
    assert "would not give exactly the tree of" in mixed.stdout
