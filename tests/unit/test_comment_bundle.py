"""The CI artifact is untrusted: it is validated, and tied to the triggering PR (A7)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mergeml.errors import GitHubError
from mergeml.github.artifact import post_bundle, read_bundle, write_bundle
from mergeml.github.comment import GitHubClient
from tests.unit.test_comment import HEAD_SHA, PR, REPO, TOKEN, FakeGitHub, serving


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    with serving() as server:
        yield server


def bundle(tmp_path: Path, **meta: object) -> Path:
    folder = tmp_path / "artifact"
    write_bundle(folder, pr=PR, head_sha=HEAD_SHA, body="report")
    if meta:
        (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def test_a_valid_bundle_posts_then_updates_the_sticky_comment(
    tmp_path: Path, github: FakeGitHub
) -> None:
    client = GitHubClient(TOKEN, api_url=github.base_url, timeout=5)
    folder = bundle(tmp_path)
    assert post_bundle(client, REPO, folder, HEAD_SHA)[0] == "created"
    assert post_bundle(client, REPO, folder, HEAD_SHA)[0] == "updated"
    assert len(github.marker_comments()) == 1


@pytest.mark.parametrize(
    "meta",
    [
        {"pr": "12; rm -rf /", "head_sha": HEAD_SHA},
        {"pr": -1, "head_sha": HEAD_SHA},
        {"pr": True, "head_sha": HEAD_SHA},
        {"pr": PR, "head_sha": "b" * 40},  # not the triggering run's commit
        {"pr": PR, "head_sha": HEAD_SHA, "extra": "key"},
        {"pr": PR},
    ],
)
def test_a_poisoned_bundle_is_refused_before_any_request(
    tmp_path: Path, github: FakeGitHub, meta: dict
) -> None:
    client = GitHubClient(TOKEN, api_url=github.base_url, timeout=5)
    with pytest.raises(GitHubError):
        post_bundle(client, REPO, bundle(tmp_path, **meta), HEAD_SHA)
    assert github.log == []


def test_extra_files_and_huge_bodies_are_refused(tmp_path: Path) -> None:
    folder = bundle(tmp_path)
    (folder / "evil.sh").write_text("rm -rf /")
    with pytest.raises(GitHubError, match="exactly"):
        read_bundle(folder, expected_head_sha=HEAD_SHA)
    (folder / "evil.sh").unlink()
    (folder / "body.md").write_text("x" * 10_000_000)
    with pytest.raises(GitHubError, match="larger"):
        read_bundle(folder, expected_head_sha=HEAD_SHA)


def test_a_pr_number_that_is_not_the_triggering_pr_is_refused(
    tmp_path: Path, github: FakeGitHub
) -> None:
    github.pulls[(REPO, PR)] = "c" * 40  # the PR has moved on, or is another PR
    client = GitHubClient(TOKEN, api_url=github.base_url, timeout=5)
    with pytest.raises(GitHubError, match="refusing to comment"):
        post_bundle(client, REPO, bundle(tmp_path), HEAD_SHA)
    assert github.comments[(REPO, PR)] == []
