"""`mergeml promote` with real clones of a bare origin (SECURITY D1-D4, D6).

The tests drive `mergeml.api.release`; the first ones also run the command line, whose
output scripts and people read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mergeml.api import release as api
from mergeml.errors import MergemlError
from mergeml.release.policy import Policy
from mergeml.scm import Git, PushRejected
from tests.helpers import git, mergeml
from tests.scm.repos import Said, clone, objects, remote_refs, write_model


def test_promote_to_staging_then_again_writes_nothing_new(origin: Path) -> None:
    repo = clone(origin, "a")
    rev = write_model(repo, "1" * 32, 0.9, "model one")
    proc = mergeml(repo, "promote", "staging")
    assert proc.returncode == 0, proc.stderr
    assert "tabular-model@v0.1.0" in proc.stdout
    refs = remote_refs(origin)
    assert "refs/tags/tabular-model@v0.1.0" in refs
    assert "refs/tags/tabular-model#staging#1" in refs
    assert git(origin, "rev-parse", "release/staging^{tree}") == git(
        repo, "rev-parse", f"{rev}^{{tree}}"
    )
    again = mergeml(repo, "promote", "staging")
    assert again.returncode == 0
    assert "already in staging" in again.stdout
    assert remote_refs(origin) == refs


def test_a_refusal_is_one_line_on_the_command_line(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.9, "model one")
    before = remote_refs(origin)
    proc = mergeml(repo, "promote", "production")
    assert proc.returncode != 0
    assert "never been in staging" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert remote_refs(origin) == before


@pytest.mark.parametrize(
    ("setup", "stage", "pattern"),
    [
        ("none", "production", "never been in staging"),
        ("none", "qa", "unknown stage"),
        ("dirty", "staging", "uncommitted"),
        ("bad-gate", "staging", "fails the gates"),
        ("local-only", "staging", "not reachable"),
    ],
)
def test_refusals_write_nothing(origin: Path, setup: str, stage: str, pattern: str) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.9, "model one")
    if setup == "dirty":
        (repo / "params.yaml").write_text("changed: true\n")
    if setup == "bad-gate":
        write_model(repo, "2" * 32, 0.5, "a weak model")
    if setup == "local-only":
        (repo / "notes.txt").write_text("x")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "not pushed")
    before = remote_refs(origin)
    local_before = git(repo, "tag")
    said = Said()
    with pytest.raises(MergemlError, match=pattern) as refused:
        api.promote(stage, repo=repo, say=said)
    assert "\n" not in str(refused.value)
    assert said == []  # the refusal is the only thing said
    assert remote_refs(origin) == before
    assert git(repo, "tag") == local_before


def test_production_after_staging_reuses_the_version(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.9, "model one")
    api.promote("staging", repo=repo)
    outcome = api.promote("production", repo=repo)
    assert outcome.tags == ["tabular-model#production#2"]
    assert "refs/tags/tabular-model#production#2" in remote_refs(origin)
    assert not [r for r in remote_refs(origin) if r.startswith("refs/tags/tabular-model@v0.2")]


def test_a_stale_clone_is_rejected_atomically_and_keeps_no_local_tags(origin: Path) -> None:
    from mergeml.release import plans, promotion, push

    a = clone(origin, "a")
    write_model(a, "1" * 32, 0.9, "model one")
    b = clone(origin, "b")
    stale = Git(b)
    stale.fetch("origin")
    context = plans.Context(stale, "tabular-model", "origin", Policy())
    plan = promotion.plan_promote(context, plans.Promote("staging"))
    api.promote("staging", repo=a)
    after_a = remote_refs(origin)
    with pytest.raises(PushRejected) as rejected:
        push.execute(stale, plan, remote="origin", actor="b", message="race")
    # git's per-ref reasons, not its generic "failed to push some refs".
    assert "tabular-model@v0.1.0 [rejected] (already exists)" in str(rejected.value)
    assert remote_refs(origin) == after_a  # nothing from the loser
    assert git(b, "tag") == ""  # no orphan local tags
    # The loser, run again, sees the winner's promotion.
    assert api.promote("staging", repo=b).plan.already


def test_another_commit_with_the_same_model_promotes_the_registered_version(
    origin: Path,
) -> None:
    repo = clone(origin, "a")
    rev = write_model(repo, "1" * 32, 0.9, "model one")
    api.promote("staging", repo=repo)
    (repo / "notes.txt").write_text("docs only: same dvc.lock, same model")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "docs")
    git(repo, "push", "-q", "origin", "main")
    said = Said()
    api.promote("production", repo=repo, say=said)  # HEAD: a new commit, the same model
    assert any("holds the same model as tabular-model v0.1.0" in line for line in said)
    assert git(origin, "rev-parse", "release/production") == rev
    assert git(origin, "rev-parse", "tabular-model#production#2^{commit}") == rev
    assert api.registry(repo=repo).warnings == []


def test_a_dry_run_writes_nothing_not_even_a_merge_commit(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.90, "model one")
    api.promote("staging", repo=repo)
    api.promote("production", repo=repo)
    write_model(repo, "2" * 32, 0.91, "model two")
    api.promote("staging", repo=repo)
    api.promote("production", repo=repo)
    # release/production now holds v0.2.0: putting v0.1.0 back needs a merge commit.
    git(repo, "fetch", "-q", "origin")
    local, remote = objects(repo), remote_refs(origin)
    outcome = api.rollback("production", dry_run=True, repo=repo)
    assert outcome.tags == ["tabular-model#production#5"]
    assert outcome.plan.branch.merge_message == "Roll back tabular-model v0.1.0 to production"
    assert objects(repo) == local  # no tag, no ref, no commit object
    assert remote_refs(origin) == remote
    proc = mergeml(repo, "rollback", "production", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "would push release/production -> a merge of " in proc.stdout
    assert "'tabular-model#production#5'" in proc.stdout
    assert objects(repo) == local
    write_model(repo, "3" * 32, 0.92, "model three")
    git(repo, "fetch", "-q", "origin")
    local = objects(repo)
    first = api.promote("staging", dry_run=True, repo=repo)
    assert first.tags == ["tabular-model@v0.3.0", "tabular-model#staging#5"]
    assert objects(repo) == local
    assert remote_refs(origin) == remote
