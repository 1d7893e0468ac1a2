"""The retraining loop's pure parts: its state (debounce, one entry per window, cooldown),
the token it uses, and the pull request calls against the fake GitHub."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from mergeml.config.monitor import RetrainSettings
from mergeml.errors import MonitorError
from mergeml.github.comment import GitHubClient
from mergeml.github.pulls import add_label, create_pull, find_pulls, pr_token, update_body
from mergeml.monitor.loop_state import (
    LoopState,
    Window,
    cooling_until,
    due,
    parse_state,
    record,
)
from mergeml.monitor.retrain import LoopInput, body, decide
from tests.fake_http import serving
from tests.monitor.retrain_fakes import BRANCH, REPO, PullsServer

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def windows(*flags: bool) -> LoopState:
    state = LoopState()
    for n, flag in enumerate(flags):
        state = record(state, Window(f"2026-11-{n + 10}", flag, ""))
    return state


def test_debounce_needs_the_last_windows_all_breached() -> None:
    assert not due(windows(True), 2)
    assert due(windows(True, True), 2)
    assert not due(windows(True, False), 2)
    assert due(windows(False, True, True), 2)
    assert not due(windows(True, False, True), 2)


def test_a_window_is_counted_once() -> None:
    state = record(windows(True), Window("2026-11-10", True, "again"))
    assert len(state.windows) == 1
    assert state.windows[0].summary == "again"
    assert not due(state, 2)


def test_state_round_trips_and_bad_state_is_one_error() -> None:
    state = windows(True, False)
    assert parse_state(state.to_json(), "x") == state
    assert parse_state(None, "x") == LoopState()
    with pytest.raises(MonitorError, match="refs/mergeml/monitor/m: unreadable"):
        parse_state("{not json", "refs/mergeml/monitor/m")


def test_cooldown_runs_from_the_merge_or_close() -> None:
    merged = {"merged_at": "2026-11-28T10:00:00Z", "closed_at": "2026-11-28T10:00:00Z"}
    assert cooling_until(merged, 7) == datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert cooling_until({"state": "open", "closed_at": None}, 7) is None
    assert cooling_until(None, 7) is None


def job(breached: bool = True) -> LoopInput:
    return LoopInput("m", "2026-11-30", breached, "", "", rows=None)


@pytest.mark.parametrize(
    ("pr", "action"),
    [
        (None, "open"),
        ({"number": 3, "state": "open"}, "update"),
        ({"number": 3, "state": "closed", "closed_at": "2026-11-28T00:00:00Z"}, "cooldown"),
        ({"number": 3, "state": "closed", "closed_at": "2026-11-20T00:00:00Z"}, "open"),
    ],
)
def test_decide(pr: dict | None, action: str) -> None:
    found, _ = decide(windows(True, True), job(), RetrainSettings(), pr, NOW)
    assert found == action


def test_decide_waits_and_records() -> None:
    settings = RetrainSettings()
    assert decide(windows(True), job(), settings, None, NOW)[0] == "waiting"
    assert decide(windows(True, False), job(False), settings, None, NOW)[0] == "recorded"


def test_the_app_token_wins_over_github_token() -> None:
    both = {"MERGEML_GITHUB_TOKEN": "app", "GITHUB_TOKEN": "gh"}
    assert pr_token(both) == "app"
    assert pr_token({"MERGEML_GITHUB_TOKEN": " ", "GITHUB_TOKEN": "gh"}) == "gh"
    assert pr_token({}) is None


def test_the_body_carries_the_marker() -> None:
    assert body("m", "report").splitlines() == ["<!-- mergeml:retrain m -->", "report"]
    assert len(body("m", "x" * 70_000)) <= 65_536


@pytest.fixture
def github() -> Iterator[PullsServer]:
    with serving(PullsServer()) as server:
        yield server


def test_pull_requests_are_found_by_branch_opened_updated_labelled(github: PullsServer) -> None:
    client = GitHubClient("t0ken", github.base_url)
    assert find_pulls(client, REPO, BRANCH) == []
    pr = create_pull(client, REPO, head=BRANCH, base="main", title="t", body="b")
    assert [p["number"] for p in find_pulls(client, REPO, BRANCH)] == [pr["number"]]
    assert find_pulls(client, REPO, "retrain/other") == []
    update_body(client, REPO, pr["number"], "new")
    add_label(client, REPO, pr["number"], "retrain")
    assert github.pulls[0]["body"] == "new"
    assert github.pulls[0]["labels"] == ["retrain"]
    assert all(seen.authorization == "Bearer t0ken" for seen in github.log)
    assert "head=acme%3Aretrain%2Ftabular-model" in github.log[0].path


def test_a_long_time_after_the_close_is_no_cooldown() -> None:
    long_ago = (NOW - timedelta(days=30)).isoformat()
    assert cooling_until({"closed_at": long_ago}, 7) < NOW


def test_the_data_watermark_round_trips_and_a_bad_one_is_one_error() -> None:
    from dataclasses import replace

    state = replace(windows(True), data_until="2026-11-21T06:00:00+00:00")
    assert parse_state(state.to_json(), "x") == state
    with pytest.raises(MonitorError, match="data_until 'soon' is not a date-time"):
        parse_state('{"windows": [], "data_until": "soon"}', "x")


def test_rows_already_added_are_not_added_again() -> None:
    """Windows overlap (7 days, run daily): a commit adds only rows logged after the last."""
    import pandas as pd

    from mergeml.monitor.labelled import LOGGED_AT, rows_after

    times = pd.to_datetime(["2026-11-20T10:00Z", "2026-11-21T05:59Z", "2026-11-21T06:00Z"])
    rows = pd.DataFrame({"amount": [1.0, 2.0, 3.0], "is_fraud": [0, 1, 0], LOGGED_AT: times})

    fresh = rows_after(rows, datetime(2026, 11, 21, 6, 0, tzinfo=UTC))
    assert fresh.to_dict("list") == {"amount": [3.0], "is_fraud": [0]}
    assert list(rows_after(rows, None).columns) == ["amount", "is_fraud"]
