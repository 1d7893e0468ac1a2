"""Post the mergeml report as one sticky pull-request comment through the GitHub REST API.

Every input is validated before any network call. The comment body is sent as JSON data and
never reaches a shell. A body without :data:`MARKER` gets it prepended, so the next run finds
and updates the same comment instead of adding a new one. The untrusted CI artifact that
carries a pull request's comment is read by :mod:`mergeml.github.artifact`.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from mergeml import __version__
from mergeml.errors import GitHubError, one_line
from mergeml.review.report import MARKER, MAX_BODY  # the report marks and sizes the comment

logger = logging.getLogger(__name__)

MAX_PAGES = 50  # 5,000 comments at per_page=100; beyond that we refuse rather than duplicate.
MAX_RESPONSE = 10 * 1024 * 1024  # bytes read from one API response.
MAX_PR = 10**9

_REPO_RE = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+")
_PR_RE = re.compile(r"[0-9]{1,10}")
_TOKEN_RE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: no header injection.
SHA_RE = re.compile(r"[0-9a-f]{40}")  # a full commit SHA, as GitHub writes it
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _show(value: object) -> str:
    """``repr(value)`` cut to 40 characters: safe to put in a one-line error."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_repo(repo: object) -> str:
    """Return ``repo`` if it is an ``owner/name`` slug; raise GitHubError otherwise."""
    if not isinstance(repo, str) or not _REPO_RE.fullmatch(repo):
        raise GitHubError(f"invalid repository (expected owner/name): {_show(repo)}")
    if repo.split("/")[1].strip(".") == "":
        raise GitHubError(f"invalid repository name: {_show(repo)}")
    return repo


def check_number(value: object, what: str = "pull request number") -> int:
    """Return ``value`` as an int in 1..10**9; only an int or a string of ASCII digits."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _PR_RE.fullmatch(value):
        number = int(value)
    if number is None or not 1 <= number <= MAX_PR:
        raise GitHubError(f"invalid {what} (expected digits, 1..{MAX_PR}): {_show(value)}")
    return number


def check_text(text: object, what: str, limit: int) -> str:
    """Return ``text`` if it is a string of at most ``limit`` characters (GitHub's limits)."""
    if not isinstance(text, str):
        raise GitHubError(f"{what} must be a string: {_show(text)}")
    if len(text) > limit:
        raise GitHubError(f"{what} too long ({len(text)} characters, GitHub's limit is {limit})")
    return text


def check_body(body: object) -> str:
    """Return ``body`` if it is a string within GitHub's :data:`MAX_BODY` limit."""
    return check_text(body, "comment body", MAX_BODY)


def validate_request(repo: str, pr: str | int, body: str) -> tuple[str, int]:
    """Validate a sticky-comment request; return ``(body_with_marker, pr_number)``.

    :data:`MARKER` is prepended (on its own line) when ``body`` lacks it; the length limit
    applies to the body as it will be sent.
    """
    check_repo(repo)
    number = check_number(pr)
    check_body(body)
    if MARKER not in body:
        body = f"{MARKER}\n{body}"
    return check_body(body), number


def token_from_env(env: Mapping[str, str] = os.environ) -> str:
    """The API token from ``GITHUB_TOKEN``; GitHubError if it is missing or empty."""
    token = env.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise GitHubError("GITHUB_TOKEN is not set or empty")
    return token


def _origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``url``, with the scheme's default port filled in."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise GitHubError(f"invalid URL: {_show(url)}") from exc
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def _check_api_url(api_url: str) -> str:
    """Return ``api_url`` without a trailing slash if it is HTTPS (or HTTP on loopback)."""
    scheme, host, _ = _origin(api_url)
    parts = urlsplit(api_url)
    secure = scheme == "https" or (scheme == "http" and host in _LOOPBACK)
    if not host or not secure or parts.query or parts.fragment or parts.username:
        raise GitHubError(f"invalid GitHub API URL (https required): {_show(api_url)}")
    return api_url.rstrip("/")


def _next_link(link_header: str) -> str | None:
    """The ``rel="next"`` target of an RFC 8288 ``Link`` header, if any."""
    for match in re.finditer(r"<([^>]*)>([^,<]*)", link_header):
        for param in match.group(2).split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "rel" and "next" in value.strip().strip('"').split():
                return match.group(1)
    return None


def _api_message(error: urllib.error.HTTPError) -> str:
    """GitHub's ``message`` field from an error response, or the HTTP reason."""
    try:
        data = json.loads(error.read(64 * 1024) or b"null")
    except (OSError, ValueError, http.client.HTTPException):
        data = None
    message = data.get("message") if isinstance(data, dict) else None
    return str(message) if message else str(error.reason)


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only within one origin, so the token never leaves the API host."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        """Refuse (the 3xx becomes an HTTPError) when ``newurl`` is on another origin."""
        if _origin(newurl) != _origin(req.full_url):
            logger.warning("not following redirect to another host: %s", _origin(newurl)[1])
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class GitHubClient:
    """A minimal client for the issue-comment endpoints of the GitHub REST API.

    :meth:`repo_request` reaches any other endpoint under ``/repos/{owner}/{name}/``.
    """

    def __init__(self, token: str, api_url: str = "https://api.github.com", timeout: float = 30):
        if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
            raise GitHubError("GitHub token is empty or contains invalid characters")
        self._token = token
        self._api = _check_api_url(api_url)
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_SameOriginRedirects)

    def list_comments(self, repo: str, pr: str | int) -> list[dict[str, Any]]:
        """Every comment on issue/PR ``pr``, following ``Link: rel="next"`` pagination."""
        number = check_number(pr)
        path = f"issues/{number}/comments?per_page=100"
        return self.repo_list(repo, path, what=f"comment list from GitHub for {repo}#{number}")

    def create_comment(self, repo: str, pr: str | int, body: str) -> dict[str, Any]:
        """Create a comment on issue/PR ``pr``; return GitHub's comment object."""
        url = f"{self._repo_url(repo)}/issues/{check_number(pr)}/comments"
        data, _ = self._request("POST", url, {"body": check_body(body)})
        return _as_comment(data)

    def update_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        """Replace the body of comment ``comment_id``; return GitHub's comment object."""
        comment_id = check_number(comment_id, "comment id")
        url = f"{self._repo_url(repo)}/issues/comments/{comment_id}"
        data, _ = self._request("PATCH", url, {"body": check_body(body)})
        return _as_comment(data)

    def pull_head_sha(self, repo: str, pr: str | int) -> str:
        """The head commit SHA of pull request ``pr``."""
        url = f"{self._repo_url(repo)}/pulls/{check_number(pr)}"
        data, _ = self._request("GET", url)
        head = data.get("head") if isinstance(data, dict) else None
        sha = head.get("sha") if isinstance(head, dict) else None
        if not isinstance(sha, str) or not SHA_RE.fullmatch(sha):
            raise GitHubError(f"unexpected pull request object from GitHub for {repo}#{pr}")
        return sha

    def repo_request(
        self, method: str, repo: str, path: str, payload: object = None, *, missing_ok: bool = False
    ) -> Any:
        """Send ``method`` to ``/repos/{repo}/{path}`` (``path`` already URL-quoted); the JSON.

        With ``missing_ok``, an HTTP 404 returns None instead of raising GitHubError.
        """
        try:
            data, _ = self._request(method, f"{self._repo_url(repo)}/{path}", payload)
        except GitHubError as exc:
            cause = exc.__cause__
            if missing_ok and isinstance(cause, urllib.error.HTTPError) and cause.code == 404:
                return None
            raise
        return data

    def repo_list(self, repo: str, path: str, *, what: str = "") -> list[dict[str, Any]]:
        """Every object of the list at ``/repos/{repo}/{path}``, following ``Link:
        rel="next"`` pagination; ``what`` names the list in errors."""
        what = what or f"list from GitHub for {repo} {path.split('?')[0]}"
        url = f"{self._repo_url(repo)}/{path}"
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            data, link = self._request("GET", url)
            if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
                raise GitHubError(f"unexpected {what}")
            found.extend(data)
            next_url = _next_link(link)
            if next_url is None:
                return found
            url = self._same_origin(next_url)
        raise GitHubError(f"more than {MAX_PAGES} pages of the {what}")

    def _repo_url(self, repo: str) -> str:
        return f"{self._api}/repos/{check_repo(repo)}"

    def _same_origin(self, url: str) -> str:
        """Return ``url`` if it is on the API's origin; GitHubError otherwise."""
        if _origin(url) != _origin(self._api):
            raise GitHubError(f"refusing pagination link to another host: {_show(url)}")
        return url

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"mergeml/{__version__}",
        }

    def _request(self, method: str, url: str, payload: object = None) -> tuple[Any, str]:
        """Send one request; return the decoded JSON and the ``Link`` header."""
        headers = self._headers()
        data = None
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        where = f"{method} {urlsplit(url).path}"
        logger.debug("GitHub API %s", where)
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                raw = response.read(MAX_RESPONSE + 1)
                link = ", ".join(response.headers.get_all("Link") or [])
        except urllib.error.HTTPError as exc:
            with exc:
                message = self._redact(one_line(_api_message(exc)))[:200]
            raise GitHubError(f"GitHub API {where} failed: HTTP {exc.code}: {message}") from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = self._redact(one_line(str(getattr(exc, "reason", exc))))[:200]
            raise GitHubError(f"GitHub API {where} failed: {reason}") from exc
        return _decode(raw, where), link

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***")


def _decode(raw: bytes, where: str) -> Any:
    """Parse a response body as JSON (empty means ``None``)."""
    if len(raw) > MAX_RESPONSE:
        raise GitHubError(f"GitHub API {where}: response larger than {MAX_RESPONSE} bytes")
    try:
        return json.loads(raw) if raw else None
    except ValueError as exc:
        raise GitHubError(f"GitHub API {where}: response is not JSON") from exc


def _as_comment(data: Any) -> dict[str, Any]:
    """``data`` if it looks like a comment object (a dict with an int ``id``)."""
    if not isinstance(data, dict) or type(data.get("id")) is not int:
        raise GitHubError(f"unexpected comment object from GitHub: {_show(data)}")
    return data


def find_sticky(comments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The comment carrying :data:`MARKER`: the first by a bot, else the first at all."""
    marked = [c for c in comments if MARKER in str(c.get("body") or "")]
    bots = [c for c in marked if isinstance(c.get("user"), dict) and c["user"].get("type") == "Bot"]
    candidates = bots or marked
    return candidates[0] if candidates else None


def post_sticky_comment(
    client: GitHubClient, repo: str, pr: str | int, body: str
) -> tuple[str, int]:
    """Create or update the mergeml comment on ``repo#pr``; return (action, comment id)."""
    body, number = validate_request(repo, pr, body)
    existing = find_sticky(client.list_comments(repo, number))
    if existing is not None:
        comment = client.update_comment(repo, _as_comment(existing)["id"], body)
        action = "updated"
    else:
        comment = client.create_comment(repo, number, body)
        action = "created"
    logger.info("%s comment %d on %s#%d", action, comment["id"], repo, number)
    return action, int(comment["id"])
