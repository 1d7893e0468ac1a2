"""Publishing a release, against a real loopback server that speaks GitHub's release API."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from mergeml.errors import GitHubError
from mergeml.github.comment import GitHubClient
from mergeml.github.release import MAX_RELEASE_BODY, check_tag, publish_release
from tests.fake_http import FakeServer, QuietHandler
from tests.fake_http import serving as serve

TOKEN = "ghs_release-secret-token-456"
REPO = "octo/demo"
TAG = "tabular-model#staging#3"

BY_TAG_RE = re.compile(r"/repos/([^/]+/[^/]+)/releases/tags/([^/]+)")
REF_RE = re.compile(r"/repos/([^/]+/[^/]+)/git/ref/tags/([^/]+)")
CREATE_RE = re.compile(r"/repos/([^/]+/[^/]+)/releases")
EDIT_RE = re.compile(r"/repos/([^/]+/[^/]+)/releases/(\d+)")


class FakeGitHub(FakeServer):
    """In-memory tags and releases with GitHub's auth, status codes and error bodies."""

    def __init__(self) -> None:
        super().__init__(Handler)
        self.tags: set[tuple[str, str]] = {(REPO, TAG)}
        self.releases: dict[int, dict[str, Any]] = {}
        self.repos: dict[int, str] = {}
        self.next_id = 5000
        self.fail_with: tuple[int, str] | None = None  # answer writes with this error

    def add_release(self, tag: str, body: str = "old notes") -> int:
        self.next_id += 1
        self.releases[self.next_id] = {
            "id": self.next_id,
            "tag_name": tag,
            "name": "old",
            "body": body,
        }
        self.repos[self.next_id] = REPO
        return self.next_id


class Handler(QuietHandler):
    """Routes the four endpoints publish_release uses; anything else is a 404."""

    server: FakeGitHub

    def _handle(self) -> None:
        raw = self._receive()
        gh = self.server
        with gh.lock:
            if self.headers["Authorization"] != f"Bearer {TOKEN}":
                self._send(401, {"message": "Bad credentials"})
            elif gh.fail_with and self.command != "GET":
                self._send(gh.fail_with[0], {"message": gh.fail_with[1]})
            else:
                self._route(gh, urlsplit(self.path).path, raw)

    def _route(self, gh: FakeGitHub, path: str, raw: bytes) -> None:
        by_tag, ref = BY_TAG_RE.fullmatch(path), REF_RE.fullmatch(path)
        create, edit = CREATE_RE.fullmatch(path), EDIT_RE.fullmatch(path)
        if self.command == "GET" and by_tag:
            repo, tag = by_tag[1], unquote(by_tag[2])
            found = [
                r for i, r in gh.releases.items() if (gh.repos[i], r["tag_name"]) == (repo, tag)
            ]
            self._send(200, found[0]) if found else self._send(404, {"message": "Not Found"})
        elif self.command == "GET" and ref and (ref[1], unquote(ref[2])) in gh.tags:
            self._send(200, {"ref": f"refs/tags/{unquote(ref[2])}", "object": {"type": "tag"}})
        elif self.command == "POST" and create:
            data = json.loads(raw)
            gh.next_id += 1
            gh.releases[gh.next_id] = {"id": gh.next_id, **data}
            gh.repos[gh.next_id] = create[1]
            self._send(201, gh.releases[gh.next_id])
        elif self.command == "PATCH" and edit and int(edit[2]) in gh.releases:
            release = gh.releases[int(edit[2])]
            release.update(json.loads(raw))
            self._send(200, release)
        else:
            self._send(404, {"message": "Not Found"})


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serve(FakeGitHub()) as server:
        yield server


@pytest.fixture
def client(github: FakeGitHub) -> GitHubClient:
    return GitHubClient(TOKEN, api_url=github.base_url, timeout=5)


def test_first_publish_creates_the_release_of_the_existing_tag(
    github: FakeGitHub, client: GitHubClient
) -> None:
    action, release_id = publish_release(client, REPO, TAG, "staging #3", "# Model card\n")

    assert action == "created"
    assert github.releases[release_id] == {
        "id": release_id,
        "tag_name": TAG,
        "name": "staging #3",
        "body": "# Model card\n",
    }
    assert [(s.method, s.path) for s in github.log] == [
        ("GET", f"/repos/{REPO}/releases/tags/tabular-model%23staging%233"),
        ("GET", f"/repos/{REPO}/git/ref/tags/tabular-model%23staging%233"),
        ("POST", f"/repos/{REPO}/releases"),
    ]
    assert all(s.authorization == f"Bearer {TOKEN}" for s in github.log)


def test_publishing_again_updates_the_same_release(
    github: FakeGitHub, client: GitHubClient
) -> None:
    other = github.add_release("tabular-model@v0.1.0")
    _, first_id = publish_release(client, REPO, TAG, "staging #3", "card v1")
    github.log.clear()

    action, second_id = publish_release(client, REPO, TAG, "staging #3 (fixed)", "card v2")

    assert (action, second_id) == ("updated", first_id)
    assert github.releases[first_id] == {
        "id": first_id,
        "tag_name": TAG,
        "name": "staging #3 (fixed)",
        "body": "card v2",
    }
    assert github.releases[other]["body"] == "old notes"
    assert len(github.releases) == 2
    assert [s.method for s in github.log] == ["GET", "PATCH"]
    assert github.log[-1].path == f"/repos/{REPO}/releases/{first_id}"
    assert json.loads(github.log[-1].body) == {"name": "staging #3 (fixed)", "body": "card v2"}


def test_a_tag_missing_on_github_is_an_error_and_no_release_is_created(
    github: FakeGitHub, client: GitHubClient
) -> None:
    with pytest.raises(GitHubError, match="is not on octo/demo: push it"):
        publish_release(client, REPO, "tabular-model@v9.9.9", "v9.9.9", "card")

    assert github.releases == {}
    assert [s.method for s in github.log] == ["GET", "GET"]


def test_an_api_error_is_one_line_without_the_token(
    github: FakeGitHub, client: GitHubClient
) -> None:
    github.fail_with = (422, f"Validation Failed\nbody rejected for {TOKEN}\nsee docs")

    with pytest.raises(GitHubError) as info:
        publish_release(client, REPO, TAG, "staging #3", "card")

    message = str(info.value)
    assert "POST" in message
    assert "HTTP 422: Validation Failed body rejected for *** see docs" in message
    assert TOKEN not in message
    assert "\n" not in message


def test_a_wrong_token_is_a_401_that_does_not_leak_it(github: FakeGitHub) -> None:
    secret = "ghp_wrong-but-still-secret-777"
    client = GitHubClient(secret, api_url=github.base_url, timeout=5)

    with pytest.raises(GitHubError, match="HTTP 401: Bad credentials") as info:
        publish_release(client, REPO, TAG, "staging #3", "card")

    assert secret not in str(info.value)
    assert [s.method for s in github.log] == ["GET"]


@pytest.mark.parametrize("tag", ["tabular-model@v0.1.0", TAG, "models/tabular@v1.2.3", "v1"])
def test_gto_tags_are_sane_tag_names(tag: str) -> None:
    assert check_tag(tag) == tag


@pytest.mark.parametrize(
    "tag",
    [
        "",
        "x" * 256,
        None,
        7,
        "v1 0",
        "v1\n",
        "v1;rm -rf /",
        "a..b",
        "../../releases",
        "a/../b",
        ".hidden",
        "a/.b",
        "v1.lock",
        "v1.",
        "/v1",
        "v1/",
        "a//b",
        "@",
        "v1@{1}",
        "v1~1",
        "v1^",
        "a:b",
        "a?b",
        "a*b",
        "a[b",
        "a\\b",
        "-v1",
        "v1\x7f",
        "vé",
    ],
)
def test_a_bad_tag_is_refused_before_any_request(
    github: FakeGitHub, client: GitHubClient, tag: Any
) -> None:
    with pytest.raises(GitHubError, match="invalid tag") as info:
        publish_release(client, REPO, tag, "name", "card")

    assert "\n" not in str(info.value)
    assert len(str(info.value)) < 120
    assert github.log == []


def test_notes_over_githubs_limit_are_refused_before_any_request(
    github: FakeGitHub, client: GitHubClient
) -> None:
    with pytest.raises(GitHubError) as info:
        publish_release(client, REPO, TAG, "name", "x" * (MAX_RELEASE_BODY + 1))

    assert str(info.value) == (
        "release notes too long (125001 characters, GitHub's limit is 125000)"
    )
    assert github.log == []


def test_notes_exactly_at_the_limit_are_sent(github: FakeGitHub, client: GitHubClient) -> None:
    _, release_id = publish_release(client, REPO, TAG, "name", "x" * MAX_RELEASE_BODY)
    assert len(github.releases[release_id]["body"]) == 125_000


@pytest.mark.parametrize(
    ("repo", "name", "body", "bad"),
    [
        ("octo/..", "n", "b", "invalid repository name"),
        ("octo/demo\n", "n", "b", "invalid repository"),
        (REPO, None, "b", "release name must be a string"),
        (REPO, "n", b"bytes", "release notes must be a string"),
    ],
)
def test_other_bad_inputs_are_refused_before_any_request(
    github: FakeGitHub, client: GitHubClient, repo: str, name: Any, body: Any, bad: str
) -> None:
    with pytest.raises(GitHubError, match=bad):
        publish_release(client, repo, TAG, name, body)
    assert github.log == []


def test_a_malformed_release_object_is_an_error(github: FakeGitHub, client: GitHubClient) -> None:
    release_id = github.add_release(TAG)
    github.releases[release_id]["id"] = "5001"

    with pytest.raises(GitHubError, match="unexpected release object"):
        publish_release(client, REPO, TAG, "name", "card")
    assert [s.method for s in github.log] == ["GET"]


def test_the_cli_publishes_a_notes_file_and_refuses_a_missing_one(
    github: FakeGitHub, tmp_path: Path
) -> None:
    from tests.helpers import mergeml, run

    notes = tmp_path / "model-card.md"
    notes.write_text("# Model card: tabular-model\n")
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.base_url}
    args = ["publish-release", "--repo", REPO, "--tag", TAG, "--notes-file"]
    proc = run([sys.executable, "-m", "mergeml", *args, str(notes)], tmp_path, env=env)
    assert proc.stdout.startswith(f"created release 5001 for {TAG} on {REPO}")
    [release] = github.releases.values()
    assert release["body"] == "# Model card: tabular-model\n"
    assert release["name"] == TAG

    requests = len(github.log)
    missing = mergeml(tmp_path, *args, str(tmp_path / "absent.md"))
    assert missing.returncode != 0
    assert "cannot read release notes" in missing.stderr
    assert TOKEN not in missing.stderr
    assert len(github.log) == requests  # refused before any request
