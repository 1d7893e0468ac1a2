"""`mergeml comment` end to end against a loopback server that behaves like GitHub."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run
from tests.unit.test_comment import REPO, TOKEN, FakeGitHub, serving


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serving() as server:
        yield server


def post(
    tmp_path: Path, github: FakeGitHub, pr: str, body: str
) -> subprocess.CompletedProcess[str]:
    body_file = tmp_path / "body.md"
    body_file.write_text(body)
    args = ["comment", "--repo", REPO, "--pr", pr, "--body-file", str(body_file)]
    env = {"GITHUB_TOKEN": TOKEN, "NO_PROXY": "*", "no_proxy": "*"}
    return run(
        [sys.executable, "-m", "mergeml", *args, "--api-url", github.base_url],
        tmp_path,
        check=False,
        env=env,
    )


def test_first_run_creates_and_second_run_updates_the_same_comment(
    tmp_path: Path, github: FakeGitHub
) -> None:
    first = post(tmp_path, github, "7", "metrics v1")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("created comment")
    second = post(tmp_path, github, "7", "metrics v2 `a$(id)b`")
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("updated comment")
    (only,) = github.marker_comments()
    assert "metrics v2 `a$(id)b`" in only["body"]
    assert first.stdout.split()[2] == second.stdout.split()[2]


@pytest.mark.parametrize("pr", ["12; rm -rf /", "-1", "0", "1e3"])
def test_a_poisoned_pr_number_is_refused_before_any_request(
    tmp_path: Path, github: FakeGitHub, pr: str
) -> None:
    proc = post(tmp_path, github, pr, "body")
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    assert github.log == []


def test_a_ten_megabyte_body_is_refused_before_any_request(
    tmp_path: Path, github: FakeGitHub
) -> None:
    proc = post(tmp_path, github, "7", "x" * 10_000_000)
    assert proc.returncode == 1
    assert "too large" in proc.stderr
