"""`mergeml promote` with real clones of a bare origin (SECURITY D1-D4, D6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mergeml.release.policy import Policy
from mergeml.scm import Git, PushRejected
from tests.conftest import git, mergeml
from tests.scm.repos import clone, remote_refs, write_model


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


@pytest.mark.parametrize(
    ("setup", "args", "pattern"),
    [
        ("none", ["promote", "production"], "never been in staging"),
        ("none", ["promote", "qa"], "unknown stage"),
        ("dirty", ["promote", "staging"], "uncommitted"),
        ("bad-gate", ["promote", "staging"], "fails the gates"),
        ("local-only", ["promote", "staging"], "not reachable"),
    ],
)
def test_refusals_write_nothing(origin: Path, setup: str, args: list[str], pattern: str) -> None:
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
    proc = mergeml(repo, *args)
    assert proc.returncode != 0
    assert pattern in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert remote_refs(origin) == before
    assert git(repo, "tag") == local_before


def test_production_after_staging_reuses_the_version(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.9, "model one")
    assert mergeml(repo, "promote", "staging").returncode == 0
    proc = mergeml(repo, "promote", "production")
    assert proc.returncode == 0, proc.stderr
    assert "refs/tags/tabular-model#production#2" in remote_refs(origin)
    assert not [r for r in remote_refs(origin) if r.startswith("refs/tags/tabular-model@v0.2")]


def test_a_stale_clone_is_rejected_atomically_and_keeps_no_local_tags(origin: Path) -> None:
    from mergeml.release import promotion

    a = clone(origin, "a")
    write_model(a, "1" * 32, 0.9, "model one")
    b = clone(origin, "b")
    stale = Git(b)
    stale.fetch("origin")
    request = promotion.Request("tabular-model", "staging")
    plan = promotion.plan(stale, request, Policy())
    assert mergeml(a, "promote", "staging").returncode == 0
    after_a = remote_refs(origin)
    with pytest.raises(PushRejected) as rejected:
        promotion.execute(stale, plan, remote="origin", actor="b", message="race")
    # git's per-ref reasons, not its generic "failed to push some refs".
    assert "tabular-model@v0.1.0 [rejected] (already exists)" in str(rejected.value)
    assert remote_refs(origin) == after_a  # nothing from the loser
    assert git(b, "tag") == ""  # no orphan local tags
    # The loser, run again, sees the winner's promotion.
    assert "already in staging" in mergeml(b, "promote", "staging").stdout


def test_another_commit_with_the_same_model_promotes_the_registered_version(
    origin: Path,
) -> None:
    repo = clone(origin, "a")
    rev = write_model(repo, "1" * 32, 0.9, "model one")
    assert mergeml(repo, "promote", "staging").returncode == 0
    (repo / "notes.txt").write_text("docs only: same dvc.lock, same model")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "docs")
    git(repo, "push", "-q", "origin", "main")
    proc = mergeml(repo, "promote", "production")  # HEAD: a new commit, the same model
    assert proc.returncode == 0, proc.stderr
    assert "holds the same model as tabular-model v0.1.0" in proc.stderr
    assert git(origin, "rev-parse", "release/production") == rev
    assert git(origin, "rev-parse", "tabular-model#production#2^{commit}") == rev
    assert '"warnings": []' in mergeml(repo, "registry", "--json").stdout
