"""`mergeml rollback`: forward-only, with a new stage tag and a merge (SECURITY D5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mergeml.api import release as api
from mergeml.errors import MergemlError
from tests.helpers import git, mergeml
from tests.scm.repos import clone, remote_refs, write_model


def promoted_twice(origin: Path) -> tuple[Path, str, str]:
    """v0.1.0 then v0.2.0 through staging into production; returns (clone, rev1, rev2)."""
    repo = clone(origin, "a")
    first = write_model(repo, "1" * 32, 0.90, "model one")
    for stage in ("staging", "production"):
        api.promote(stage, repo=repo)
    second = write_model(repo, "2" * 32, 0.91, "model two")
    for stage in ("staging", "production"):
        api.promote(stage, repo=repo)
        tree = git(origin, "rev-parse", f"release/{stage}^{{tree}}")
        assert tree == git(origin, "rev-parse", f"{second}^{{tree}}")  # fast-forwarded
    return repo, first, second


def tag_objects(origin: Path) -> dict[str, str]:
    out = git(origin, "for-each-ref", "refs/tags", "--format=%(refname) %(objectname)")
    return dict(line.split() for line in out.splitlines())


def test_rollback_puts_the_previous_version_back_with_a_new_tag(origin: Path) -> None:
    repo, first, second = promoted_twice(origin)
    before_tags = tag_objects(origin)
    release_before = git(origin, "rev-parse", "release/production")

    proc = mergeml(repo, "rollback", "production", "--message", "latency regression")
    assert proc.returncode == 0, proc.stderr
    assert "rolled production back to v0.1.0" in proc.stdout

    after = tag_objects(origin)
    # Forward-only: every earlier tag still there, unmoved; exactly one new stage tag.
    assert {k: after[k] for k in before_tags} == before_tags
    new = sorted(set(after) - set(before_tags))
    assert new == ["refs/tags/tabular-model#production#5"]
    assert git(origin, "rev-parse", "tabular-model#production#5^{commit}") == first
    # The branch moved forward: the old head is an ancestor, the tree is v0.1.0's.
    head = git(origin, "rev-parse", "release/production")
    assert git(origin, "merge-base", "--is-ancestor", release_before, head) == ""
    tree = git(origin, "rev-parse", f"{head}^{{tree}}")
    assert tree == git(origin, "rev-parse", f"{first}^{{tree}}")

    history = api.history("production", repo=repo)
    assert [h.version for h in history] == ["v0.1.0", "v0.2.0", "v0.1.0"]
    assert "latency regression" in history[-1].message
    registry = api.registry(repo=repo)
    assert registry.artifacts["tabular-model"].stage_holders()["production"] == "v0.1.0"
    assert registry.warnings == []
    assert second != first


def test_rollback_to_a_named_version_and_then_again_is_idempotent(origin: Path) -> None:
    repo, _, _ = promoted_twice(origin)
    api.rollback("staging", to="v0.1.0", repo=repo)
    refs = remote_refs(origin)
    proc = mergeml(repo, "rollback", "staging", "--to", "v0.1.0")
    assert proc.returncode == 0
    assert "already in staging" in proc.stdout
    assert remote_refs(origin) == refs


def test_rollback_refusals_write_nothing(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.90, "model one")
    api.promote("staging", repo=repo)
    write_model(repo, "2" * 32, 0.91, "model two")
    refs = remote_refs(origin)
    cases = [
        (("staging", None), "no earlier holder"),
        (("production", None), "no earlier holder than nothing"),
        (("staging", "v9.9.9"), "not a registered version"),
        (("qa", None), "unknown stage"),
    ]
    for (stage, to), pattern in cases:
        with pytest.raises(MergemlError) as refused:
            api.rollback(stage, to=to, repo=repo)
        assert pattern in str(refused.value), (stage, to)
        assert "\n" not in str(refused.value)
    api.promote("staging", repo=repo)  # v0.2.0 in staging
    refs = remote_refs(origin)
    never = mergeml(repo, "rollback", "production", "--to", "v0.2.0")
    assert never.returncode != 0
    assert "never in production" in never.stderr
    assert len(never.stderr.strip().splitlines()) == 1
    assert remote_refs(origin) == refs
    assert git(repo, "tag") == git(origin, "tag")  # no local leftovers
