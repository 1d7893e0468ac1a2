"""Every file of the untrusted comment artifact is checked before any request (issue 10, #17).

The artifact comes from a pull request's unprivileged run: its files may be too long once
the marker is added, a directory, a FIFO or a symlink. Each is refused with one line by
`mergeml comment --bundle`, and the fake GitHub on loopback sees no request at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mergeml.errors import GitHubError
from mergeml.github.artifact import BODY_FILE, META_FILE, post_bundle, read_bundle, write_bundle
from mergeml.github.comment import MARKER, MAX_BODY, GitHubClient
from tests.helpers import run
from tests.unit.test_comment import HEAD_SHA, PR, REPO, TOKEN, FakeGitHub, serving


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serving() as server:
        yield server


def artifact(tmp_path: Path) -> Path:
    folder = tmp_path / "artifact"
    write_bundle(folder, pr=PR, head_sha=HEAD_SHA, body="report")
    return folder


def comment_cli(
    cwd: Path, github: FakeGitHub, args: list[str], *, token: str
) -> subprocess.CompletedProcess[str]:
    """`mergeml ARGS` against the fake GitHub, with ``token`` as GITHUB_TOKEN."""
    command = [sys.executable, "-m", "mergeml", *args, "--api-url", github.base_url]
    return run(command, cwd, check=False, env={"GITHUB_TOKEN": token})


def unmarked_body_at_the_limit(folder: Path) -> None:
    (folder / BODY_FILE).write_text("x" * MAX_BODY, encoding="utf-8")


def body_is_a_directory(folder: Path) -> None:
    (folder / BODY_FILE).unlink()
    (folder / BODY_FILE).mkdir()


def meta_is_a_directory(folder: Path) -> None:
    (folder / META_FILE).unlink()
    (folder / META_FILE).mkdir()


def body_is_a_symlink(folder: Path) -> None:
    secret = folder.parent / "secret.txt"
    secret.write_text("a secret of the privileged runner")
    (folder / BODY_FILE).unlink()
    (folder / BODY_FILE).symlink_to(secret)


def meta_is_a_symlink(folder: Path) -> None:
    target = folder.parent / "meta-elsewhere.json"
    (folder / META_FILE).rename(target)
    (folder / META_FILE).symlink_to(target)


def body_is_a_dangling_symlink(folder: Path) -> None:
    (folder / BODY_FILE).unlink()
    (folder / BODY_FILE).symlink_to(folder.parent / "nowhere")


def body_is_a_fifo(folder: Path) -> None:
    (folder / BODY_FILE).unlink()
    os.mkfifo(folder / BODY_FILE)  # reading it would block for ever


POISONS: dict[str, Callable[[Path], None]] = {
    "unmarked body at the limit": unmarked_body_at_the_limit,
    "body is a directory": body_is_a_directory,
    "meta is a directory": meta_is_a_directory,
    "body is a symlink": body_is_a_symlink,
    "meta is a symlink": meta_is_a_symlink,
    "body is a dangling symlink": body_is_a_dangling_symlink,
    "body is a fifo": body_is_a_fifo,
}


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
def test_a_poisoned_artifact_file_is_refused_before_any_request(
    tmp_path: Path, github: FakeGitHub, poison: Callable[[Path], None]
) -> None:
    folder = artifact(tmp_path)
    poison(folder)
    client = GitHubClient(TOKEN, api_url=github.base_url, timeout=5)
    with pytest.raises(GitHubError):
        post_bundle(client, REPO, folder, HEAD_SHA)
    assert github.log == []


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
def test_the_comment_command_says_one_line_and_sends_nothing(
    tmp_path: Path, github: FakeGitHub, poison: Callable[[Path], None]
) -> None:
    folder = artifact(tmp_path)
    poison(folder)
    args = ["comment", "--repo", REPO, "--bundle", str(folder), "--head-sha", HEAD_SHA]
    proc = comment_cli(tmp_path, github, args, token=TOKEN)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert "error: " in line
    assert "secret" not in proc.stderr + proc.stdout
    assert github.log == []


def test_the_returned_body_is_the_one_that_will_be_sent(tmp_path: Path) -> None:
    folder = artifact(tmp_path)
    (folder / BODY_FILE).write_text("x" * (MAX_BODY - len(MARKER) - 1), encoding="utf-8")
    number, body = read_bundle(folder, expected_head_sha=HEAD_SHA)
    assert number == PR
    assert body.startswith(MARKER + "\n")
    assert len(body) == MAX_BODY


def test_a_body_file_that_is_not_a_regular_file_is_refused_before_any_request(
    tmp_path: Path, github: FakeGitHub
) -> None:
    fifo = tmp_path / "body.md"
    os.mkfifo(fifo)
    args = ["comment", "--repo", REPO, "--pr", str(PR), "--body-file", str(fifo)]
    proc = comment_cli(tmp_path, github, args, token=TOKEN)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    assert github.log == []


def test_an_unmarked_body_file_at_the_limit_is_refused_before_the_token_is_needed(
    tmp_path: Path, github: FakeGitHub
) -> None:
    body = tmp_path / "body.md"
    body.write_text("x" * MAX_BODY, encoding="utf-8")
    args = ["comment", "--repo", REPO, "--pr", str(PR), "--body-file", str(body)]
    proc = comment_cli(tmp_path, github, args, token="")
    assert proc.returncode == 1
    assert "too long" in proc.stderr
    assert github.log == []
