"""A remote given by the user is a name or a URL, never a git option (SECURITY F4), and
a remote that cannot be read is reported with git's own reason (issue 10, items 4, 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mergeml.api import release as api
from mergeml.errors import ScmError
from tests.helpers import git, mergeml
from tests.scm.repos import clone, objects, write_model

COMMANDS = [
    ["registry"],
    ["history", "staging"],
    ["promote", "staging", "--dry-run"],
    ["rollback", "staging", "--dry-run"],
    ["release-tags", "staging"],
]


def promoted_clone(origin: Path) -> Path:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.90, "model one")
    api.promote("staging", repo=repo)
    return repo


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_remote_that_looks_like_an_option_runs_nothing(
    origin: Path, tmp_path: Path, command: list[str]
) -> None:
    repo = promoted_clone(origin)
    marker = tmp_path / "ran"
    before = objects(repo), objects(origin)
    proc = mergeml(repo, *command, "--remote", f"--upload-pack=touch {marker}")
    assert not marker.exists(), proc.stderr
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("mergeml: error: remote '--upload-pack=touch")
    assert "starts with '-'" in lines[0]
    assert (objects(repo), objects(origin)) == before


def test_a_configured_url_that_looks_like_an_option_runs_nothing(
    origin: Path, tmp_path: Path
) -> None:
    repo = promoted_clone(origin)
    marker = tmp_path / "ran"
    git(repo, "config", "remote.evil.url", f"--upload-pack=touch {marker};")
    for command in (["registry"], ["promote", "staging", "--dry-run"]):
        proc = mergeml(repo, *command, "--remote", "evil")
        assert not marker.exists(), proc.stderr
        assert proc.returncode != 0
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "the URL of remote 'evil' '--upload-pack=touch" in proc.stderr


def test_the_api_refuses_an_option_as_a_remote(origin: Path, tmp_path: Path) -> None:
    repo = promoted_clone(origin)
    marker = tmp_path / "ran"
    for call in (
        lambda: api.registry(remote=f"--upload-pack=touch {marker}", repo=repo),
        lambda: api.promote("staging", remote=f"--upload-pack=touch {marker}", repo=repo),
        lambda: api.registry(remote="-", repo=repo),
    ):
        with pytest.raises(ScmError, match="starts with '-'"):
            call()
    assert not marker.exists()


@pytest.mark.parametrize("command", [["registry"], ["history", "staging"]], ids=lambda c: c[0])
def test_a_misspelt_remote_gets_gits_own_reason(origin: Path, command: list[str]) -> None:
    repo = promoted_clone(origin)
    proc = mergeml(repo, *command, "--remote", "orign")
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "cannot read the registry of orign" in lines[0]
    assert "'orign' does not appear to be a git repository" in lines[0]
    assert "and the repository exists" not in lines[0]


def test_promote_to_a_misspelt_remote_gets_gits_own_reason(origin: Path) -> None:
    repo = promoted_clone(origin)
    proc = mergeml(repo, "promote", "production", "--remote", "orign")
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "'orign' does not appear to be a git repository" in lines[0]
