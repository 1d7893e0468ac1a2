"""The comment artifact handed from the unprivileged CI run to the commenting workflow.

`mergeml report --bundle` writes it (:func:`write_bundle`); pr-comment.yml downloads it
from a pull request's run and `mergeml comment --bundle` posts it (:func:`post_bundle`).
Every byte of it is untrusted: each file must be a small regular file (no symlink,
directory or FIFO), and everything is checked before any request.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from mergeml.errors import GitHubError
from mergeml.github.comment import (
    MAX_BODY,
    SHA_RE,
    GitHubClient,
    _show,
    check_number,
    check_repo,
    post_sticky_comment,
    validate_request,
)

BODY_FILE = "body.md"
META_FILE = "meta.json"
MAX_META = 1024


def write_bundle(out: Path, *, pr: int, head_sha: str, body: str) -> None:
    """Write the comment artifact: the body and {"pr", "head_sha"}."""
    number = check_number(pr)
    if not SHA_RE.fullmatch(head_sha):
        raise GitHubError(f"head SHA {_show(head_sha)} is not a 40-character hex SHA")
    body, _ = validate_request("owner/repo", number, body)
    out.mkdir(parents=True, exist_ok=True)
    (out / BODY_FILE).write_text(body, encoding="utf-8")
    meta = {"pr": number, "head_sha": head_sha}
    (out / META_FILE).write_text(json.dumps(meta) + "\n", encoding="utf-8")


def read_limited(path: Path, limit: int, *, follow_symlinks: bool = False) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    A directory, FIFO, device or (unless ``follow_symlinks``) symlink is refused with
    GitHubError before anything is read: the file is opened without following a final
    symlink and without blocking, then checked on the open descriptor (no race).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        kind = "a symlink" if path.is_symlink() else f"unreadable ({exc.strerror})"
        raise GitHubError(f"{path} is {kind}: expected a regular file") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise GitHubError(f"{path} is not a regular file")
        data = b""
        if info.st_size <= limit:
            while len(data) <= limit and (chunk := os.read(fd, limit + 1 - len(data))):
                data += chunk
    finally:
        os.close(fd)
    if max(info.st_size, len(data)) > limit:  # the file may grow while it is read
        raise GitHubError(f"{path} is too large: larger than the {limit} bytes allowed")
    return data


def _read_meta(folder: Path, expected_head_sha: str) -> int:
    """The PR number of the artifact's :data:`META_FILE`, checked against the head SHA."""
    raw = read_limited(folder / META_FILE, MAX_META)
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GitHubError(f"artifact {META_FILE} is not valid JSON") from exc
    if not isinstance(meta, dict) or set(meta) != {"pr", "head_sha"}:
        raise GitHubError(f"artifact {META_FILE} must have exactly the keys pr and head_sha")
    if isinstance(meta["pr"], bool) or not isinstance(meta["pr"], int | str):
        raise GitHubError(f"artifact pull request number {_show(meta['pr'])} is not a number")
    number = check_number(meta["pr"] if isinstance(meta["pr"], str) else str(meta["pr"]))
    if meta["head_sha"] != expected_head_sha:
        raise GitHubError(
            f"artifact head SHA {_show(meta['head_sha'])} is not the triggering run's "
            f"{expected_head_sha[:12]}"
        )
    return number


def read_bundle(folder: Path, *, expected_head_sha: str) -> tuple[int, str]:
    """Read an untrusted comment artifact; (pr, body as it will be sent) or GitHubError.

    Exactly two small regular files (no symlink, directory or FIFO); meta keys exactly
    {"pr", "head_sha"}; the PR number digits only; the head SHA equal to the triggering
    run's (``expected_head_sha``); the body within GitHub's limit once :data:`MARKER` is
    added. All of it is checked here, before any request.
    """
    if not SHA_RE.fullmatch(expected_head_sha or ""):
        raise GitHubError(f"expected head SHA {_show(expected_head_sha)} is not a hex SHA")
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if names != sorted([BODY_FILE, META_FILE]):
        raise GitHubError(f"artifact {folder} must hold exactly {BODY_FILE} and {META_FILE}")
    number = _read_meta(folder, expected_head_sha)
    raw = read_limited(folder / BODY_FILE, 4 * MAX_BODY)  # UTF-8: at most 4 bytes a character
    body, _ = validate_request("owner/repo", number, raw.decode("utf-8", errors="replace"))
    return number, body


def post_bundle(client: GitHubClient, repo: str, folder: Path, head_sha: str) -> tuple[str, int]:
    """Validate the artifact, check the PR's head is the triggering commit, then post."""
    number, body = read_bundle(folder, expected_head_sha=head_sha)
    check_repo(repo)
    actual = client.pull_head_sha(repo, number)
    if actual != head_sha:
        raise GitHubError(
            f"pull request #{number} is at {actual[:12]}, not the triggering run's "
            f"{head_sha[:12]}: refusing to comment"
        )
    return post_sticky_comment(client, repo, number, body)
