"""The sticky PR comment, against a real loopback server that speaks GitHub's comment API."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mergeml.errors import GitHubError
from mergeml.github.comment import (
    MARKER,
    MAX_BODY,
    GitHubClient,
    post_sticky_comment,
    token_from_env,
    validate_request,
)
from tests.fake_http import FakeServer, QuietHandler
from tests.fake_http import serving as serve

TOKEN = "ghs_test-secret-token-123"
REPO = "octo/demo"
PR = 7

LIST_RE = re.compile(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments")
EDIT_RE = re.compile(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)")
PULL_RE = re.compile(r"/repos/([^/]+/[^/]+)/pulls/(\d+)")
HEAD_SHA = "a" * 40


class FakeGitHub(FakeServer):
    """In-memory issue comments with GitHub's auth, status codes and Link pagination."""

    page_size = 2

    def __init__(self) -> None:
        super().__init__(Handler)
        self.comments: dict[tuple[str, int], list[dict[str, Any]]] = {(REPO, PR): []}
        self.pulls: dict[tuple[str, int], str] = {(REPO, PR): HEAD_SHA}
        self.next_id = 1000
        self.link_base = self.base_url  # origin written into Link headers
        self.redirect_to: str | None = None  # answer every request with a 301 here
        self.raw_reply: bytes | None = None  # answer every request with these bytes

    def add(self, body: str, user_type: str = "User", issue: tuple[str, int] = (REPO, PR)) -> int:
        """Seed a comment; return its id."""
        self.next_id += 1
        user = {"login": "someone", "type": user_type}
        self.comments[issue].append({"id": self.next_id, "body": body, "user": user})
        return self.next_id

    def marker_comments(self) -> list[dict[str, Any]]:
        return [c for c in self.comments[(REPO, PR)] if MARKER in c["body"]]


class Handler(QuietHandler):
    """Routes GET/POST .../issues/N/comments and PATCH .../issues/comments/ID."""

    server: FakeGitHub

    def _handle(self) -> None:
        raw = self._receive()
        gh = self.server
        with gh.lock:
            if gh.redirect_to:
                self._send(301, {"message": "Moved"}, {"Location": gh.redirect_to})
            elif self.headers["Authorization"] != f"Bearer {TOKEN}":
                self._send(401, {"message": "Bad credentials"})
            else:
                self._route(gh, raw)

    def _route(self, gh: FakeGitHub, raw: bytes) -> None:
        url = urlsplit(self.path)
        listing = LIST_RE.fullmatch(url.path)
        editing = EDIT_RE.fullmatch(url.path)
        issue = (listing[1], int(listing[2])) if listing else None
        pull = PULL_RE.fullmatch(url.path)
        if gh.raw_reply is not None:
            self._send(200, None, raw=gh.raw_reply)
        elif pull and self.command == "GET" and (pull[1], int(pull[2])) in gh.pulls:
            sha = gh.pulls[(pull[1], int(pull[2]))]
            self._send(200, {"number": int(pull[2]), "head": {"sha": sha}})
        elif issue in gh.comments and self.command == "GET":
            self._list(gh, issue, parse_qs(url.query))
        elif issue in gh.comments and self.command == "POST":
            gh.next_id += 1
            bot = {"login": "github-actions[bot]", "type": "Bot"}
            comment = {"id": gh.next_id, "body": json.loads(raw)["body"], "user": bot}
            gh.comments[issue].append(comment)
            self._send(201, comment)
        elif editing and self.command == "PATCH" and (found := self._find(gh, editing)):
            found["body"] = json.loads(raw)["body"]
            self._send(200, found)
        else:
            self._send(404, {"message": "Not Found"})

    @staticmethod
    def _find(gh: FakeGitHub, editing: re.Match[str]) -> dict[str, Any] | None:
        for (repo, _), comments in gh.comments.items():
            for comment in comments:
                if repo == editing[1] and comment["id"] == int(editing[2]):
                    return comment
        return None

    def _list(self, gh: FakeGitHub, issue: tuple[str, int], query: dict[str, list[str]]) -> None:
        page = int(query.get("page", ["1"])[0])
        size = min(int(query.get("per_page", ["30"])[0]), gh.page_size)
        items = gh.comments[issue][(page - 1) * size : page * size]
        headers = {}
        if page * size < len(gh.comments[issue]):
            path = urlsplit(self.path).path
            headers["Link"] = (
                f'<{gh.link_base}{path}?per_page={size}&page={page + 1}>; rel="next", '
                f'<{gh.link_base}{path}?per_page={size}&page=999>; rel="last"'
            )
        self._send(200, items, headers)


def serving() -> contextlib.AbstractContextManager[FakeGitHub]:
    """A fake GitHub on loopback for the duration of the block."""
    return serve(FakeGitHub())


@pytest.fixture
def start_server() -> Iterator[Callable[[], FakeGitHub]]:
    """Start fake GitHub servers on demand; stop them all at teardown."""
    with contextlib.ExitStack() as stack:
        yield lambda: stack.enter_context(serving())


@pytest.fixture
def github(start_server: Callable[[], FakeGitHub]) -> FakeGitHub:
    return start_server()


@pytest.fixture
def client(github: FakeGitHub) -> GitHubClient:
    return GitHubClient(TOKEN, api_url=github.base_url, timeout=5)


def test_first_run_creates_the_marked_comment(github: FakeGitHub, client: GitHubClient) -> None:
    action, comment_id = post_sticky_comment(client, REPO, PR, "report v1")

    assert action == "created"
    assert github.comments[(REPO, PR)] == [
        {
            "id": comment_id,
            "body": f"{MARKER}\nreport v1",
            "user": github.comments[(REPO, PR)][0]["user"],
        }
    ]
    assert [s.method for s in github.log] == ["GET", "POST"]
    assert all(s.authorization == f"Bearer {TOKEN}" for s in github.log)


def test_second_run_updates_the_same_comment_on_page_three(
    github: FakeGitHub, client: GitHubClient
) -> None:
    for i in range(4):
        github.add(f"unrelated comment {i}")
    _, first_id = post_sticky_comment(client, REPO, PR, "report v1")
    github.add("comment after ours")
    github.log.clear()

    action, second_id = post_sticky_comment(client, REPO, "7", "report v2")

    assert (action, second_id) == ("updated", first_id)
    assert github.marker_comments() == [
        {
            "id": first_id,
            "body": f"{MARKER}\nreport v2",
            "user": github.marker_comments()[0]["user"],
        }
    ]
    assert len(github.comments[(REPO, PR)]) == 6
    pages = [parse_qs(urlsplit(s.path).query).get("page", ["1"])[0] for s in github.log[:-1]]
    assert pages == ["1", "2", "3"]
    assert github.log[-1].method == "PATCH"
    assert github.log[-1].path == f"/repos/{REPO}/issues/comments/{first_id}"


def test_body_that_already_has_the_marker_is_sent_unchanged(
    github: FakeGitHub, client: GitHubClient
) -> None:
    body = f"# Report\n{MARKER}\n"
    post_sticky_comment(client, REPO, PR, body)
    assert github.marker_comments()[0]["body"] == body


def test_a_bot_marker_comment_wins_over_one_planted_by_a_user(
    github: FakeGitHub, client: GitHubClient
) -> None:
    planted = github.add(f"{MARKER} planted by a user")
    ours = github.add(f"{MARKER} old report", user_type="Bot")

    assert post_sticky_comment(client, REPO, PR, "new") == ("updated", ours)
    assert github.comments[(REPO, PR)][0] == {
        "id": planted,
        "body": f"{MARKER} planted by a user",
        "user": {"login": "someone", "type": "User"},
    }


def test_shell_metacharacters_reach_github_verbatim(
    github: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    canary = tmp_path / "pwned"
    body = f'"; curl x | sh; # and a$(id)b and `touch {canary}` $(touch {canary})'

    post_sticky_comment(client, REPO, PR, body)

    sent = json.loads(github.log[-1].body)
    assert sent == {"body": f"{MARKER}\n{body}"}
    assert github.marker_comments()[0]["body"] == f"{MARKER}\n{body}"
    assert not canary.exists()


def test_wrong_token_is_a_401_error_that_does_not_leak_the_token(github: FakeGitHub) -> None:
    secret = "ghp_wrong-but-still-secret-999"
    client = GitHubClient(secret, api_url=github.base_url, timeout=5)

    with pytest.raises(GitHubError, match="401") as info:
        post_sticky_comment(client, REPO, PR, "report")

    assert "Bad credentials" in str(info.value)
    assert secret not in str(info.value)
    assert [s.method for s in github.log] == ["GET"]


def test_unknown_pull_request_is_a_404_error(github: FakeGitHub, client: GitHubClient) -> None:
    with pytest.raises(GitHubError, match=r"HTTP 404: Not Found"):
        post_sticky_comment(client, REPO, 8, "report")


def test_updating_an_unknown_comment_is_a_404_error(client: GitHubClient) -> None:
    with pytest.raises(GitHubError, match="404"):
        client.update_comment(REPO, 424242, "body")


@pytest.mark.parametrize(
    ("repo", "pr", "body", "bad"),
    [
        (REPO, "12; rm -rf /", "ok", "'12; rm -rf /'"),
        (REPO, "-1", "ok", "'-1'"),
        (REPO, "0", "ok", "'0'"),
        (REPO, 0, "ok", "0"),
        (REPO, "1e3", "ok", "'1e3'"),
        (REPO, " 7", "ok", "' 7'"),
        (REPO, "7\n", "ok", "'7\\n'"),
        (REPO, "١٢", "ok", "'١٢'"),
        (REPO, str(10**9 + 1), "ok", "'1000000001'"),
        (REPO, True, "ok", "True"),
        ("a/b/../c", PR, "ok", "'a/b/../c'"),
        ("octo/..", PR, "ok", "'octo/..'"),
        ("octo/demo\n", PR, "ok", "'octo/demo\\n'"),
        ("octo", PR, "ok", "'octo'"),
        (REPO, PR, "x" * 10_000_000, "10000000 characters"),
        (REPO, PR, "x" * MAX_BODY, "65560 characters"),
    ],
)
def test_poisoned_inputs_are_refused_before_any_request(
    github: FakeGitHub, client: GitHubClient, repo: Any, pr: Any, body: str, bad: str
) -> None:
    with pytest.raises(GitHubError) as info:
        post_sticky_comment(client, repo, pr, body)

    message = str(info.value)
    assert bad in message
    assert "\n" not in message
    assert len(message) < 160
    assert github.log == []


@pytest.mark.parametrize("token", ["", " ", "tok en", "tok\r\nX-Evil: 1"])
def test_unusable_token_is_refused_before_any_request(github: FakeGitHub, token: str) -> None:
    with pytest.raises(GitHubError, match="token"):
        GitHubClient(token, api_url=github.base_url)
    assert github.log == []


@pytest.mark.parametrize("env", [{}, {"GITHUB_TOKEN": ""}, {"GITHUB_TOKEN": "  "}])
def test_missing_token_in_environment_is_an_error(env: dict[str, str]) -> None:
    with pytest.raises(GitHubError, match="GITHUB_TOKEN"):
        token_from_env(env)


def test_token_is_read_from_environment() -> None:
    assert token_from_env({"GITHUB_TOKEN": TOKEN}) == TOKEN


@pytest.mark.parametrize(
    "api_url", ["http://api.github.com", "ftp://127.0.0.1", "https://x@api.github.com"]
)
def test_insecure_api_url_is_refused(api_url: str) -> None:
    with pytest.raises(GitHubError, match="API URL"):
        GitHubClient(TOKEN, api_url=api_url)


def test_validate_request_adds_the_marker_and_keeps_the_limit() -> None:
    assert validate_request(REPO, "12", "hi") == (f"{MARKER}\nhi", 12)
    exact = MARKER + "x" * (MAX_BODY - len(MARKER))
    assert validate_request(REPO, 12, exact) == (exact, 12)
    with pytest.raises(GitHubError, match="too long"):
        validate_request(REPO, 12, "x" * (MAX_BODY - 1))  # too long once the marker is added


def test_pagination_link_to_another_host_is_not_followed(
    start_server: Callable[[], FakeGitHub],
) -> None:
    github, evil = start_server(), start_server()
    for i in range(3):
        github.add(f"comment {i}")
    github.link_base = evil.base_url
    client = GitHubClient(TOKEN, api_url=github.base_url, timeout=5)

    with pytest.raises(GitHubError, match="another host"):
        post_sticky_comment(client, REPO, PR, "report")

    assert evil.log == []
    assert [s.method for s in github.log] == ["GET"]


def test_redirect_to_another_host_is_not_followed(
    start_server: Callable[[], FakeGitHub],
) -> None:
    github, evil = start_server(), start_server()
    github.redirect_to = f"{evil.base_url}/repos/{REPO}/issues/{PR}/comments"
    client = GitHubClient(TOKEN, api_url=github.base_url, timeout=5)

    with pytest.raises(GitHubError, match="301"):
        post_sticky_comment(client, REPO, PR, "report")

    assert evil.log == []


def test_unreachable_api_is_a_github_error(github: FakeGitHub) -> None:
    url = github.base_url
    github.shutdown()
    github.server_close()
    client = GitHubClient(TOKEN, api_url=url, timeout=5)

    with pytest.raises(GitHubError, match="GitHub API GET"):
        client.list_comments(REPO, PR)


@pytest.mark.parametrize(
    ("reply", "error"),
    [(b"<html>oops</html>", "not JSON"), (b'{"id": 1}', "unexpected comment list")],
)
def test_malformed_response_is_a_github_error(
    github: FakeGitHub, client: GitHubClient, reply: bytes, error: str
) -> None:
    github.raw_reply = reply
    with pytest.raises(GitHubError, match=error):
        client.list_comments(REPO, PR)
