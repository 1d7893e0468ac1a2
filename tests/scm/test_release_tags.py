"""`mergeml release-tags`: a merge made in GitHub's UI gets the same tags promote writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mergeml.api import release as api
from mergeml.errors import PromotionError
from tests.helpers import git, mergeml
from tests.scm.repos import Said, clone, remote_refs, write_model


def ui_merge(origin: Path, repo: Path, stage: str, how: str) -> None:
    """What GitHub does on "Merge pull request" (merge commit) or "Squash and merge"."""
    git(repo, "fetch", "-q", "origin")
    branch = f"release/{stage}"
    if git(repo, "ls-remote", "origin", f"refs/heads/{branch}"):
        git(repo, "checkout", "-q", "-B", branch, f"origin/{branch}")
    else:  # the first merge: the branch starts at main's root
        git(repo, "checkout", "-q", "-B", branch, git(repo, "rev-list", "--max-parents=0", "HEAD"))
    if how == "merge":
        git(repo, "merge", "-q", "--no-ff", "-X", "theirs", "-m", "Merge pull request #7", "main")
    else:
        git(repo, "merge", "-q", "--squash", "-X", "theirs", "main")
        git(repo, "commit", "-q", "-m", "Promote (#7)")
    git(repo, "push", "-q", "origin", branch)
    git(repo, "checkout", "-q", "main")


@pytest.mark.parametrize("how", ["merge", "squash"])
def test_a_ui_merge_is_recorded_once(origin: Path, how: str) -> None:
    repo = clone(origin, "a")
    rev = write_model(repo, "1" * 32, 0.9, "model one")
    ui_merge(origin, repo, "staging", how)
    before = remote_refs(origin)
    branch_before = git(origin, "rev-parse", "release/staging")

    proc = mergeml(repo, "release-tags", "staging")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "tabular-model#staging#1\n"  # the only stdout line, for scripts
    new = sorted(set(remote_refs(origin)) - set(before))
    assert new == ["refs/tags/tabular-model#staging#1", "refs/tags/tabular-model@v0.1.0"]
    tagged = git(origin, "rev-parse", "tabular-model@v0.1.0^{commit}")
    # A merge commit keeps the pull request's commit; a squash has only its own.
    assert tagged == (rev if how == "merge" else branch_before)
    assert git(origin, "rev-parse", "release/staging") == branch_before  # never moved

    again = api.release_tags("staging", repo=repo)
    assert again.tags == []
    assert again.plan.stage_tag == "tabular-model#staging#1"
    assert remote_refs(origin) == sorted(set(before) | set(new))
    # promote agrees that this model is in staging, and `gto`-style readers see it.
    assert api.promote("staging", repo=repo).plan.already
    registry = api.registry(repo=repo)
    assert registry.artifacts["tabular-model"].stage_holders() == {"staging": "v0.1.0"}
    assert registry.warnings == []


def test_after_promote_release_tags_only_reports(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.9, "model one")
    api.promote("staging", repo=repo)
    refs = remote_refs(origin)
    outcome = api.release_tags("staging", repo=repo)
    assert (outcome.tags, outcome.plan.stage_tag) == ([], "tabular-model#staging#1")
    assert remote_refs(origin) == refs


def test_a_policy_breaking_ui_merge_is_recorded_with_a_warning(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.9, "model one")
    ui_merge(origin, repo, "production", "merge")
    said = Said()
    outcome = api.release_tags("production", repo=repo, say=said)
    assert any("has never been in staging" in line for line in said)
    assert outcome.plan.stage_tag == "tabular-model#production#1"
    assert outcome.tags == ["tabular-model@v0.1.0", "tabular-model#production#1"]


def test_no_release_branch_is_an_error(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.9, "model one")
    proc = mergeml(repo, "release-tags", "staging")
    assert proc.returncode != 0
    assert proc.stderr.strip() == "mergeml: error: origin has no release/staging branch"
    with pytest.raises(PromotionError, match=r"^origin has no release/staging branch$"):
        api.release_tags("staging", repo=repo)
