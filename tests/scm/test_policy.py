"""The promotion policy in pyproject.toml: read from the remote's main, validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from mergeml.api import release as api
from mergeml.errors import ConfigError, PromotionError
from mergeml.release.policy import Policy, parse_policy
from tests.helpers import git, mergeml
from tests.projects import ROOT
from tests.scm.repos import clone, remote_refs, write_model


def set_policy(repo: Path, body: str, *, push: bool = True) -> None:
    (repo / "pyproject.toml").write_text(f"[tool.mergeml.promotion]\n{body}\n")
    git(repo, "add", "pyproject.toml")
    git(repo, "commit", "-q", "-m", "policy")
    if push:
        git(repo, "push", "-q", "origin", "main")


def test_this_repository_states_the_default_policy() -> None:
    assert parse_policy((ROOT / "pyproject.toml").read_text(), "pyproject.toml") == Policy()
    assert parse_policy(None, "x") == Policy(stages=("staging", "production"))
    assert parse_policy("[project]\nname = 'x'\n", "x").requires == {"production": "staging"}


def test_custom_stages_and_no_order_rule(origin: Path) -> None:
    repo = clone(origin, "a")
    set_policy(repo, 'stages = ["qa", "production"]\nrequires = {}')
    write_model(repo, "1" * 32, 0.9, "model one")
    api.promote("production", repo=repo)
    assert "refs/tags/tabular-model#production#1" in remote_refs(origin)
    with pytest.raises(PromotionError, match=r"unknown stage 'staging' \(stages: qa, production\)"):
        api.promote("staging", repo=repo)


def test_a_local_policy_edit_does_not_apply(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.9, "model one")
    set_policy(repo, "requires = {}", push=False)  # committed locally, never reviewed
    with pytest.raises(PromotionError, match="never been in staging"):
        api.promote("production", rev="origin/main", repo=repo)


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ('stages = ["staging", "staging"]', "listed twice"),
        ('stages = ["Prod!"]', "not valid"),
        ('requires = { production = "qa" }', "'qa', which is not in stages"),
        (
            'stages = ["a", "b"]\nrequires = { a = "b", b = "a" }',
            "cycle",
        ),
        ("stages = []", "tool.mergeml.promotion.stages"),
        ("colour = 'blue'", "unknown key 'tool.mergeml.promotion.colour'"),
        ("stages = 'staging'", "tool.mergeml.promotion.stages"),
    ],
)
def test_a_bad_policy_is_one_clear_line(body: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=r"pyproject\.toml on origin/main") as info:
        parse_policy(f"[tool.mergeml.promotion]\n{body}\n", "pyproject.toml on origin/main")
    assert pattern in str(info.value)
    assert "\n" not in str(info.value)


def test_a_bad_policy_on_main_refuses_every_promotion(origin: Path) -> None:
    repo = clone(origin, "a")
    set_policy(repo, 'requires = { production = "qa" }')
    write_model(repo, "1" * 32, 0.9, "model one")
    before = remote_refs(origin)
    proc = mergeml(repo, "promote", "staging")
    assert proc.returncode != 0
    assert "pyproject.toml on origin/main" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert remote_refs(origin) == before
