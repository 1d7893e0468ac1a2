"""deploy.yml: a stage tag (from release.yml) builds and pushes the image of that version.

zizmor, actionlint, the schema, pinning, bounds and untrusted expansion are checked for
every workflow (deploy.yml included) by tests/workflows/test_workflows.py and
test_release_workflows.py; here, what is particular to deploying."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import git
from tests.projects import ROOT
from tests.workflows.test_release_workflows import steps
from tests.workflows.test_workflows import WORKFLOWS, load

FLOWS = ROOT / ".github" / "workflows"
FLOWS_TO_DEPLOY = ("deploy", "release")  # the jobs calling these pass packages: write on
DEPLOY = load(FLOWS / "deploy.yml")
EVENT = "fromJSON(needs.check.outputs.event)"
BIN = Path(sys.executable).parent


def step(job: str, name_start: str) -> dict:
    (found,) = [s for s in steps(DEPLOY, job) if s.get("name", "").startswith(name_start)]
    return found


def test_the_deploy_workflow_is_linted_with_the_others() -> None:
    assert FLOWS / "deploy.yml" in WORKFLOWS


def test_every_release_ends_with_a_deploy_of_the_stage_tag_it_recorded() -> None:
    """Every promotion reaches release.yml (a person's push of release/<stage>, promote.yml,
    a merged pull request), whose stage tag, pushed with GITHUB_TOKEN, starts nothing."""
    release = load(FLOWS / "release.yml")
    assert release["jobs"]["release"]["outputs"] == {"tag": "${{ steps.tags.outputs.tag }}"}
    deploy = release["jobs"]["deploy"]
    assert deploy["needs"] == "release"
    assert deploy["uses"] == "./.github/workflows/deploy.yml"
    assert deploy["with"] == {"tag": "${{ needs.release.outputs.tag }}"}
    assert deploy["permissions"] == {"contents": "read", "packages": "write"}
    (tags,) = [s for s in steps(release, "release") if s.get("id") == "tags"]
    assert "mergeml release-tags" in tags["run"]  # prints the stage tag (NAME#STAGE#N)
    promote = load(FLOWS / "promote.yml")["jobs"]["release"]  # calls release.yml
    assert promote["permissions"]["packages"] == "write"


def test_it_is_called_or_dispatched_with_a_tag_never_on_a_push_or_a_pull_request() -> None:
    assert set(DEPLOY["on"]) == {"workflow_dispatch", "workflow_call"}
    for trigger in ("workflow_dispatch", "workflow_call"):
        inputs = DEPLOY["on"][trigger]["inputs"]
        assert set(inputs) == {"tag"}
        assert (inputs["tag"]["type"], inputs["tag"]["required"]) == ("string", True)


def test_least_privilege_only_the_image_job_may_write_packages() -> None:
    assert DEPLOY["permissions"] == {}
    assert DEPLOY["jobs"]["check"]["permissions"] == {"contents": "read"}
    assert DEPLOY["jobs"]["image"]["permissions"] == {"contents": "read", "packages": "write"}
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            if (job.get("permissions") or {}).get("packages") == "write":
                calls = job.get("uses") in {f"./.github/workflows/{f}.yml" for f in FLOWS_TO_DEPLOY}
                assert calls or (path.name, name) == ("deploy.yml", "image")


def test_no_checkout_keeps_credentials_and_every_action_is_one_the_others_pin() -> None:
    pinned = {
        s["uses"]
        for path in WORKFLOWS
        if path.name != "deploy.yml"
        for job in load(path)["jobs"].values()
        for s in job.get("steps", [])
        if "uses" in s
    }
    for job in DEPLOY["jobs"].values():
        for s in job["steps"]:
            if "uses" in s:
                assert s["uses"] in pinned, f"{s['uses']}: not the SHA the other workflows use"
            if s.get("uses", "").startswith("actions/checkout@"):
                assert s["with"]["persist-credentials"] is False
                assert s["with"]["fetch-depth"] == 0  # the tags check-ref and pull read


def test_check_ref_decides_and_only_an_assignment_reaches_the_build() -> None:
    check = step("check", "What the tag records")
    assert check["env"] == {"REF": "${{ inputs.tag || github.ref }}"}
    assert '.venv/bin/mergeml check-ref "$REF" --json' in check["run"]
    assert DEPLOY["jobs"]["check"]["outputs"] == {"event": "${{ steps.check.outputs.event }}"}
    image = DEPLOY["jobs"]["image"]
    assert image["needs"] == "check"
    assert image["if"] == f"{EVENT}.kind == 'assignment'"
    assert image["env"]["VERSION"] == f"${{{{ {EVENT}.version }}}}"
    assert steps(DEPLOY, "image")[0]["with"]["ref"] == f"${{{{ {EVENT}.commit }}}}"


def test_one_image_build_per_model_and_stage_at_a_time_none_cancelled() -> None:
    assert DEPLOY["concurrency"]["cancel-in-progress"] is False
    assert DEPLOY["jobs"]["image"]["concurrency"] == {
        "group": f"deploy-image-${{{{ {EVENT}.name }}}}-${{{{ {EVENT}.stage }}}}",
        "cancel-in-progress": False,
    }


def test_pull_build_login_push_in_that_order_and_never_a_repro() -> None:
    runs = [s.get("run", "") for s in steps(DEPLOY, "image")]
    order = [
        "make install-runtime",
        '.venv/bin/mergeml pull --rev "$COMMIT" --out build/model',
        "docker build $TAGS",
        'docker login ghcr.io --username "$ACTOR" --password-stdin',
        'docker push --all-tags "$IMAGE"',
    ]
    found = [next(i for i, r in enumerate(runs) if want in r) for want in order]
    assert found == sorted(found)
    login = step("image", "Log in to ghcr.io")
    assert login["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert step("image", "Log out")["if"] == "always()"
    for job in DEPLOY["jobs"].values():
        for command in [s.get("run", "") for s in job["steps"]]:
            assert "repro" not in command  # what ships is what was reviewed
            assert "GITHUB_ENV" not in command
            assert "GITHUB_PATH" not in command


def run_step(script: str, cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """Run a step's script in bash as a runner would; its $GITHUB_OUTPUT as a dict."""
    out = cwd / "github-output"
    out.write_text("")
    proc = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, **env, "GITHUB_OUTPUT": str(out)},
        text=True,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


@pytest.fixture
def tagged(tmp_path: Path) -> Path:
    """A repository with v1.0.0 assigned to staging, and the venv where the runner has it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "notes.txt").write_text("model\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "model")
    git(repo, "tag", "-a", "tabular-model@v1.0.0", "-m", "register")
    git(repo, "tag", "-a", "tabular-model#staging#1", "-m", "assign")
    (repo / ".venv").mkdir()
    (repo / ".venv" / "bin").symlink_to(BIN)
    return repo


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        ("refs/tags/tabular-model#staging#1", "assignment"),
        ("tabular-model@v1.0.0", "registration"),
        ("refs/heads/main", None),
    ],
)
def test_the_check_step_gates_the_build_on_a_real_tag(tagged: Path, ref: str, kind: str) -> None:
    outputs = run_step(step("check", "What the tag records")["run"], tagged, {"REF": ref})

    event = json.loads(outputs["event"])
    assert event["kind"] == kind
    # The image job's `if`, evaluated on this output as GitHub would.
    gate = re.fullmatch(re.escape(EVENT) + r"\.(\w+) == '(\w+)'", DEPLOY["jobs"]["image"]["if"])
    assert gate, DEPLOY["jobs"]["image"]["if"]
    builds = event[gate[1]] == gate[2]
    assert builds is (kind == "assignment")
    if builds:
        assert (event["version"], event["stage"]) == ("v1.0.0", "staging")
        assert event["commit"] == git(tagged, "rev-parse", "HEAD")


@pytest.mark.parametrize(("current", "stage_tag"), [("true", True), ("false", False)])
def test_the_image_is_tagged_with_the_version_and_the_stage_it_now_holds(
    tmp_path: Path, current: str, stage_tag: bool
) -> None:
    env = {
        "OWNER": "My-Org",
        "NAME": "tabular-model",
        "VERSION": "v1.2.0",
        "STAGE": "staging",
        "CURRENT": current,
    }
    outputs = run_step(step("image", "Image name and tags")["run"], tmp_path, env)

    assert outputs["image"] == "ghcr.io/my-org/tabular-model"  # GHCR names are lowercase
    expected = "--tag ghcr.io/my-org/tabular-model:v1.2.0"
    if stage_tag:
        expected += " --tag ghcr.io/my-org/tabular-model:staging"
    assert outputs["tags"] == expected
