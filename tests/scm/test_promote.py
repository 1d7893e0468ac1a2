"""`mergeml promote` with real clones of a bare origin (SECURITY D1-D4, D6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mergeml.policy import Policy
from mergeml.scm import Git, PushRejected
from tests.conftest import git, mergeml

DVC_YAML = "artifacts:\n  tabular-model:\n    path: models/model.skops\n    type: model\n"
GATES = {
    "evaluate": {"gates": {"min": {"roc_auc": 0.8}, "vs_base": {"roc_auc": {"absolute": 0.01}}}}
}


def lock(md5: str) -> str:
    stage = {"cmd": "python train.py", "outs": [{"path": "models/model.skops", "md5": md5}]}
    return yaml.safe_dump({"schema": "2.0", "stages": {"train": stage}})


def write_model(repo: Path, md5: str, auc: float, message: str) -> str:
    (repo / "dvc.lock").write_text(lock(md5))
    (repo / "reports").mkdir(exist_ok=True)
    (repo / "reports/metrics.json").write_text(json.dumps({"roc_auc": auc}))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    git(repo, "push", "-q", "origin", "main")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    (seed / "dvc.yaml").write_text(DVC_YAML)
    (seed / "params.yaml").write_text(yaml.safe_dump(GATES))
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "project")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    return bare


def clone(origin: Path, name: str) -> Path:
    dest = origin.parent / name
    git(origin.parent, "clone", "-q", str(origin), str(dest))
    return dest


def remote_refs(origin: Path) -> list[str]:
    out = git(origin, "for-each-ref", "--format=%(refname)")
    return sorted(out.splitlines())


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
    from mergeml import promotion

    a = clone(origin, "a")
    write_model(a, "1" * 32, 0.9, "model one")
    b = clone(origin, "b")
    stale = Git(b)
    stale.fetch("origin")
    request = promotion.Request("tabular-model", "staging")
    plan = promotion.plan(stale, request, Policy())
    assert mergeml(a, "promote", "staging").returncode == 0
    after_a = remote_refs(origin)
    with pytest.raises(PushRejected):
        promotion.execute(stale, plan, remote="origin", actor="b", message="race")
    assert remote_refs(origin) == after_a  # nothing from the loser
    assert git(b, "tag") == ""  # no orphan local tags
    # The loser, run again, sees the winner's promotion.
    assert "already in staging" in mergeml(b, "promote", "staging").stdout
