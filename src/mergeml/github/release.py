"""Publish the GitHub release of an existing tag: create it once, update its notes after.

The repository, the tag and the notes are checked before any request. The tag goes into URL
paths percent-encoded (GTO stage tags hold ``#``) and the notes are sent as JSON data, so
neither reaches a shell or changes which endpoint is called.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from mergeml.errors import GitHubError
from mergeml.github.comment import GitHubClient, _show, check_repo, check_text

logger = logging.getLogger(__name__)

# GitHub answers 422 "body is too long (maximum is 125000 characters)" beyond this.
MAX_RELEASE_BODY = 125_000
MAX_TAG = 255

# git check-ref-format, restricted to printable ASCII: no space, control or ~^:?*[\ characters.
_TAG_CHARS = re.compile(r"[\x21-\x7e]+")
_TAG_FORBIDDEN = re.compile(r"[~^:?*\[\\]|\.\.|@\{")


def check_tag(tag: object) -> str:
    """Return ``tag`` if it is a sane git tag name; raise GitHubError otherwise."""
    if not isinstance(tag, str) or not 0 < len(tag) <= MAX_TAG:
        raise GitHubError(f"invalid tag (expected 1..{MAX_TAG} characters): {_show(tag)}")
    parts = tag.split("/")
    if (
        not _TAG_CHARS.fullmatch(tag)
        or _TAG_FORBIDDEN.search(tag)
        or tag == "@"
        or tag.startswith("-")
        or tag.endswith(".")
        or any(p == "" or p.startswith(".") or p.endswith(".lock") for p in parts)
    ):
        raise GitHubError(f"invalid tag name (see git check-ref-format): {_show(tag)}")
    return tag


def check_release_body(body: object) -> str:
    """Return ``body`` if it is a string within GitHub's :data:`MAX_RELEASE_BODY` limit."""
    return check_text(body, "release notes", MAX_RELEASE_BODY)


def _release_id(data: Any) -> int:
    """The ``id`` of a release object from GitHub."""
    if not isinstance(data, dict) or type(data.get("id")) is not int:
        raise GitHubError(f"unexpected release object from GitHub: {_show(data)}")
    return int(data["id"])


def publish_release(
    client: GitHubClient, repo: str, tag: str, name: str, body: str
) -> tuple[str, int]:
    """Create the release of ``tag`` on ``repo``, or update its name and notes.

    Returns ``("created" | "updated", release id)``. The tag must already be on GitHub:
    creating a release for a missing tag would make GitHub tag the default branch instead.
    """
    check_repo(repo)
    check_tag(tag)
    check_release_body(body)
    if not isinstance(name, str):
        raise GitHubError(f"release name must be a string: {_show(name)}")
    quoted = quote(tag, safe="")
    existing = client.repo_request("GET", repo, f"releases/tags/{quoted}", missing_ok=True)
    if existing is not None:
        release_id = _release_id(existing)
        data = client.repo_request(
            "PATCH", repo, f"releases/{release_id}", {"name": name, "body": body}
        )
        action = "updated"
    else:
        if client.repo_request("GET", repo, f"git/ref/tags/{quoted}", missing_ok=True) is None:
            raise GitHubError(f"tag {_show(tag)} is not on {repo}: push it before its release")
        payload = {"tag_name": tag, "name": name, "body": body}
        data = client.repo_request("POST", repo, "releases", payload)
        action = "created"
    release_id = _release_id(data)
    logger.info("%s release %d for %s on %s", action, release_id, tag, repo)
    return action, release_id
