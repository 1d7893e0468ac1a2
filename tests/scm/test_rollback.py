"""`mergeml rollback`: forward-only, with a new stage tag and a merge (SECURITY D5)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import git, mergeml
from tests.scm.repos import clone, remote_refs, write_model


def promoted_twice(origin: Path) -> tuple[Path, str, str]:
    """v0.1.0 then v0.2.0 through staging into production; returns (clone, rev1, rev2)."""
    repo = clone(origin, "a")
    first = write_model(repo, "1" * 32, 0.90, "model one")
    for stage in ("staging", "production"):
        assert mergeml(repo, "promote", stage).returncode == 0
    second = write_model(repo, "2" * 32, 0.91, "model two")
    for stage in ("staging", "production"):
        proc = mergeml(repo, "promote", stage)
        assert proc.returncode == 0, proc.stderr
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

    history = json.loads(mergeml(repo, "history", "production", "--json").stdout)
    assert [h["version"] for h in history] == ["v0.1.0", "v0.2.0", "v0.1.0"]
    assert "latency regression" in history[-1]["message"]
    registry = json.loads(mergeml(repo, "registry", "--json").stdout)
    assert registry["artifacts"]["tabular-model"]["stages"]["production"] == "v0.1.0"
    assert registry["warnings"] == []
    assert second != first


def test_rollback_to_a_named_version_and_then_again_is_idempotent(origin: Path) -> None:
    repo, _, _ = promoted_twice(origin)
    assert mergeml(repo, "rollback", "staging", "--to", "v0.1.0").returncode == 0
    refs = remote_refs(origin)
    again = mergeml(repo, "rollback", "staging", "--to", "v0.1.0")
    assert again.returncode == 0
    assert "already in staging" in again.stdout
    assert remote_refs(origin) == refs


def test_rollback_refusals_write_nothing(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.90, "model one")
    assert mergeml(repo, "promote", "staging").returncode == 0
    write_model(repo, "2" * 32, 0.91, "model two")
    refs = remote_refs(origin)
    cases = [
        (["rollback", "staging"], "no earlier holder"),
        (["rollback", "production"], "no earlier holder than nothing"),
        (["rollback", "staging", "--to", "v9.9.9"], "not a registered version"),
        (["rollback", "qa"], "unknown stage"),
    ]
    for args, pattern in cases:
        proc = mergeml(repo, *args)
        assert proc.returncode != 0, args
        assert pattern in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1
    assert mergeml(repo, "promote", "staging").returncode == 0  # v0.2.0 in staging
    refs = remote_refs(origin)
    never = mergeml(repo, "rollback", "production", "--to", "v0.2.0")
    assert never.returncode != 0
    assert "never in production" in never.stderr
    assert remote_refs(origin) == refs
    assert git(repo, "tag") == git(origin, "tag")  # no local leftovers
