"""`mergeml retrain`'s loop against a real bare origin, a local DVC remote and the fake
GitHub: debounce, exactly one pull request then updates, cooldown, nothing without a
breach, state that lives on the origin, and a branch without a token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mergeml.config.monitor import RetrainSettings
from mergeml.github.comment import GitHubClient
from mergeml.monitor.retrain import LoopInput, Outcome, run_loop
from tests.fake_http import serving
from tests.helpers import git
from tests.monitor.retrain_fakes import (
    BRANCH,
    MODEL,
    REPO,
    Loop,
    PullsServer,
    make_loop,
    make_seed,
    rows,
)

pytestmark = pytest.mark.pipeline  # real git and DVC subprocesses
SETTINGS = RetrainSettings()
DAY = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_seed(tmp_path_factory.mktemp("seed") / "repo")


@pytest.fixture
def loop(seed: Path, tmp_path: Path) -> Loop:
    return make_loop(seed, tmp_path)


@pytest.fixture
def github() -> Iterator[PullsServer]:
    with serving(PullsServer()) as server:
        yield server


def step(
    loop: Loop,
    day: int,
    breached: bool,
    server: PullsServer | None = None,
    root: Path | None = None,
) -> Outcome:
    end = (DAY + timedelta(days=day)).date().isoformat()
    job = LoopInput(
        model=MODEL,
        end=end,
        breached=breached,
        summary=f"window {day}",
        report=f"## report of {end}\n\namount drifted\n",
        rows=rows(seed=day),
        repo=REPO if server else None,
    )
    client = GitHubClient("t0ken", server.base_url) if server else None
    return run_loop(root or loop.root, job, SETTINGS, client, DAY + timedelta(days=day))


def remote_branch(loop: Loop) -> str:
    return git(loop.origin, "for-each-ref", "--format=%(objectname)", f"refs/heads/{BRANCH}")


def test_one_breach_waits_two_open_one_pull_request(loop: Loop, github: PullsServer) -> None:
    first = step(loop, 0, True, github)
    assert first.action == "waiting"
    assert first.in_a_row == 1
    assert remote_branch(loop) == ""
    assert github.pulls == []
    second = step(loop, 1, True, github)
    assert second.action == "opened", second.message
    assert [p["number"] for p in github.pulls] == [1]
    pr = github.pulls[0]
    assert pr["head"]["ref"] == BRANCH
    assert pr["base"]["ref"] == "main"
    assert pr["labels"] == ["retrain"]
    assert pr["body"].startswith(f"<!-- mergeml:retrain {MODEL} -->")
    assert "amount drifted" in pr["body"]
    head = remote_branch(loop)
    assert head == second.commit
    files = git(loop.origin, "ls-tree", "-r", "--name-only", head).split()
    data = f"data/labelled/{MODEL}-2026-11-21.parquet"
    assert f"{data}.dvc" in files
    assert data not in files
    params = git(loop.origin, "show", f"{head}:params/data/synthetic.yaml")
    assert f'extra_files: ["{data}"]' in params
    assert any(loop.store.rglob("*")), "the data was pushed to the DVC remote"
    assert git(loop.origin, "rev-parse", "main") == git(loop.root, "rev-parse", "HEAD")


def test_the_next_breach_updates_the_same_pull_request(loop: Loop, github: PullsServer) -> None:
    step(loop, 0, True, github)
    opened = step(loop, 1, True, github)
    updated = step(loop, 2, True, github)
    assert updated.action == "updated"
    assert updated.pr_number == opened.pr_number == 1
    assert len(github.pulls) == 1
    assert "2026-11-22" in github.pulls[0]["body"]
    assert git(loop.origin, "rev-parse", f"{updated.commit}^") == opened.commit  # no force
    tree = git(loop.origin, "show", f"{updated.commit}:params/data/synthetic.yaml")
    assert "2026-11-21.parquet" in tree
    assert "2026-11-22.parquet" in tree


def test_a_closed_pull_request_starts_a_cooldown(loop: Loop, github: PullsServer) -> None:
    closed = (DAY + timedelta(days=-1)).isoformat().replace("+00:00", "Z")
    github.pulls.append(
        {"number": 1, "state": "closed", "head": {"ref": BRANCH}, "closed_at": closed}
    )
    step(loop, 0, True, github)
    outcome = step(loop, 1, True, github)  # closed two days before this window ended
    assert outcome.action == "cooldown", outcome.message
    assert "#1" in outcome.message
    assert len(github.pulls) == 1
    assert remote_branch(loop) == ""
    later = step(loop, 7, True, github)  # 8 days after closing: the cooldown is over
    assert later.action == "opened", later.message
    assert later.pr_number == 2
    assert [p["state"] for p in github.pulls] == ["closed", "open"]


def test_no_breach_opens_nothing_and_resets_the_count(loop: Loop, github: PullsServer) -> None:
    assert step(loop, 0, True, github).action == "waiting"
    calm = step(loop, 1, False, github)
    assert calm.action == "recorded"
    assert calm.in_a_row == 0
    assert step(loop, 2, True, github).action == "waiting"
    assert github.pulls == []
    assert remote_branch(loop) == ""


def test_the_same_window_is_not_counted_twice(loop: Loop) -> None:
    assert step(loop, 0, True).action == "waiting"
    again = step(loop, 0, True)
    assert again.action == "waiting"
    assert again.in_a_row == 1


def test_state_lives_on_the_origin(loop: Loop, tmp_path: Path) -> None:
    assert step(loop, 0, True).action == "waiting"
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(loop.origin), str(fresh))
    (fresh / ".dvc" / "config.local").write_text((loop.root / ".dvc/config.local").read_text())
    outcome = step(loop, 1, True, root=fresh)
    assert outcome.action == "pushed", outcome.message
    state = json.loads(git(loop.origin, "show", f"refs/mergeml/monitor/{MODEL}:state.json"))
    assert [w["end"] for w in state["windows"]] == ["2026-11-20", "2026-11-21"]
    # the rows up to this window went into the branch: the next commit adds only newer ones
    assert state["data_until"] == (DAY + timedelta(days=1)).isoformat()


def test_without_a_token_the_branch_is_pushed_for_a_person(loop: Loop) -> None:
    step(loop, 0, True)
    outcome = step(loop, 1, True)
    assert outcome.action == "pushed"
    assert "no GitHub token: open the pull request by hand" in outcome.message
    assert f"data/labelled/{MODEL}-2026-11-21.md" in outcome.message
    assert remote_branch(loop) == outcome.commit
    assert git(loop.root, "worktree", "list").count("\n") == 0  # the worktree is gone
    assert git(loop.root, "status", "--porcelain") == ""  # the checkout is untouched


def test_a_dry_run_writes_nothing_to_the_origin(loop: Loop, github: PullsServer) -> None:
    step(loop, 0, True, github)
    end = (DAY + timedelta(days=1)).date().isoformat()
    job = LoopInput(MODEL, end, True, "", "report", rows(), repo=REPO, dry_run=True)
    client = GitHubClient("t0ken", github.base_url)
    outcome = run_loop(loop.root, job, SETTINGS, client, DAY + timedelta(days=1))
    assert outcome.action == "dry-run"
    assert "would open" in outcome.message
    assert github.pulls == []
    assert remote_branch(loop) == ""
    state = json.loads(git(loop.origin, "show", f"refs/mergeml/monitor/{MODEL}:state.json"))
    assert len(state["windows"]) == 1
