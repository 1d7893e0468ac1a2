"""monitor.yml: scheduled and dispatchable, least privilege, all logic in `mergeml retrain`,
and the token that makes the retraining pull request start CI."""

from __future__ import annotations

from tests.projects import ROOT
from tests.workflows.test_workflows import PINNED, load

PATH = ROOT / ".github" / "workflows" / "monitor.yml"


def test_it_runs_daily_and_on_demand() -> None:
    triggers = load(PATH)["on"]
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert len(triggers["schedule"]) == 1
    assert triggers["schedule"][0]["cron"].endswith("* * *")


def test_one_job_with_only_the_scopes_it_needs() -> None:
    data = load(PATH)
    assert data["permissions"] == {}
    (job,) = data["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert job["timeout-minutes"] <= 30


def test_steps_are_pinned_installed_from_locks_and_call_retrain() -> None:
    (job,) = load(PATH)["jobs"].values()
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    assert uses
    assert all(PINNED.match(u) for u in uses)
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs == [
        "make install-runtime",
        ".venv/bin/mergeml retrain --stage production --remote origin",
    ]


def test_the_app_or_fine_grained_token_is_preferred() -> None:
    (job,) = load(PATH)["jobs"].values()
    checkout = job["steps"][0]
    assert checkout["with"]["token"] == "${{ secrets.MERGEML_GITHUB_TOKEN || github.token }}"
    env = job["steps"][-1]["env"]
    assert env["MERGEML_GITHUB_TOKEN"] == "${{ secrets.MERGEML_GITHUB_TOKEN }}"
    assert "starts no workflow" in PATH.read_text()  # the why is documented
