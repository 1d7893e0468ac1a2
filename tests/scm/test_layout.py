"""Promotion and the registry read the files the project's dvc.yaml declares, not defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mergeml.api import release as api
from mergeml.errors import ConfigError, PromotionError
from mergeml.release.registry import Artifact, Version, holding_version
from tests.helpers import git, mergeml
from tests.scm.repos import clone, remote_refs, seed_origin

# Metrics in metrics/scores.json and the model in artifacts/clf.skops: a layout of its own.
DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    outs:
      - artifacts/clf.skops
    metrics:
      - metrics/scores.json:
          cache: false
artifacts:
  churn:
    path: artifacts/clf.skops
    type: model
"""


def lock(md5: str, path: str = "artifacts/clf.skops") -> str:
    stage = {"cmd": "python train.py", "outs": [{"path": path, "md5": md5}]}
    return yaml.safe_dump({"schema": "2.0", "stages": {"train": stage}})


def commit(repo: Path, md5: str, scores: float, *, decoy: float = 0.99) -> str:
    """A model whose declared metrics say ``scores``; reports/metrics.json, which dvc.yaml
    does not declare, says ``decoy``."""
    (repo / "dvc.lock").write_text(lock(md5))
    for name, auc in (("metrics/scores.json", scores), ("reports/metrics.json", decoy)):
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text(json.dumps({"roc_auc": auc}))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"model {md5[:4]}")
    git(repo, "push", "-q", "origin", "main")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return clone(seed_origin(tmp_path, DVC_YAML), "a")


def test_promote_is_gated_on_the_declared_metrics_file(project: Path) -> None:
    origin = project.parent / "origin.git"
    commit(project, "1" * 32, 0.5)  # fails min roc_auc 0.8; the undeclared file would pass
    before = remote_refs(origin)
    proc = mergeml(project, "promote", "staging")
    assert proc.returncode != 0
    assert "fails the gates for staging: min roc_auc" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert remote_refs(origin) == before
    commit(project, "2" * 32, 0.9, decoy=0.1)  # passes; the undeclared file would fail
    outcome = api.promote("staging", repo=project)
    assert outcome.tags == ["churn@v0.1.0", "churn#staging#1"]
    tag = git(project, "for-each-ref", "refs/tags/churn#staging#1", "--format=%(contents)")
    assert '"roc_auc": 0.9' in tag  # the tag records the declared metrics
    # Against the holder, also in its declared file: a drop of 0.05 > 0.01 fails.
    commit(project, "3" * 32, 0.85, decoy=0.99)
    with pytest.raises(PromotionError, match="vs_base roc_auc"):
        api.promote("staging", repo=project)


def test_promote_and_the_registry_read_the_declared_model_output(project: Path) -> None:
    rev = commit(project, "4" * 32, 0.9)
    api.promote("staging", repo=project)
    [version] = api.registry(repo=project).artifacts["churn"].versions.values()
    assert (version.commit, version.model_md5, version.metrics) == (rev, "4" * 32, {"roc_auc": 0.9})
    (project / "dvc.lock").write_text(lock("5" * 32, "models/model.skops"))
    git(project, "commit", "-q", "-am", "the lock lost the declared output")
    git(project, "push", "-q", "origin", "main")
    with pytest.raises(PromotionError, match=r"has no artifacts/clf\.skops in dvc\.lock"):
        api.promote("production", repo=project)


def test_each_version_is_read_where_its_own_commit_declares(project: Path) -> None:
    first = commit(project, "6" * 32, 0.9)
    api.promote("staging", repo=project)
    # The project moves its metrics and its model; the first version keeps its own files.
    moved = DVC_YAML.replace("metrics/scores.json", "eval/auc.json")
    (project / "dvc.yaml").write_text(moved.replace("artifacts/clf.skops", "out/clf.skops"))
    (project / "dvc.lock").write_text(lock("7" * 32, "out/clf.skops"))
    (project / "eval").mkdir()
    (project / "eval/auc.json").write_text(json.dumps({"roc_auc": 0.95}))
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "moved")
    git(project, "push", "-q", "origin", "main")
    second = git(project, "rev-parse", "HEAD")
    api.promote("staging", repo=project)
    versions = api.registry(repo=project).artifacts["churn"].versions
    got = {v.commit: (v.model_md5, v.metrics) for v in versions.values()}
    assert got == {first: ("6" * 32, {"roc_auc": 0.9}), second: ("7" * 32, {"roc_auc": 0.95})}


def test_unreadable_gate_rules_refuse_the_promotion(project: Path) -> None:
    commit(project, "8" * 32, 0.9)
    (project / "params.yaml").write_text("evaluate: {gates: [unclosed\n")
    git(project, "commit", "-q", "-am", "broken params")
    git(project, "push", "-q", "origin", "main")
    with pytest.raises(ConfigError, match=r"params\.yaml at \w+:\d+:\d+: invalid YAML"):
        api.promote("staging", repo=project)


def test_the_version_holding_a_model_is_the_highest_of_several() -> None:
    def version(name: str, commit: str, md5: str, gone: bool = False) -> Version:
        v = Version(name, commit, 0, "a", "m", f"x@{name}", deregistered=gone)
        v.model_md5 = md5
        return v

    art = Artifact("x")
    for v in (
        version("v0.2.0", "c2", "m"),
        version("v0.10.0", "c3", "m"),
        version("v1.0.0", "c4", "m", gone=True),
        version("v0.1.0", "c1", "other"),
    ):
        art.versions[v.version] = v
    assert holding_version(art, "c9", "m").version == "v0.10.0"  # semver, live only
    assert holding_version(art, "c1", "m").version == "v0.1.0"  # its own commit first
    assert holding_version(art, "c9", None) is None
