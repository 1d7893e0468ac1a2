"""A bare `origin` and clones of it, holding a minimal model project (no real training)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.helpers import git

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


def seed_origin(tmp_path: Path, dvc_yaml: str = DVC_YAML) -> Path:
    """A bare ``origin`` whose main holds ``dvc_yaml`` and params.yaml with the gates."""
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    (seed / "dvc.yaml").write_text(dvc_yaml)
    (seed / "params.yaml").write_text(yaml.safe_dump(GATES))
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "project")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    return bare


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return seed_origin(tmp_path)


def clone(origin: Path, name: str) -> Path:
    dest = origin.parent / name
    git(origin.parent, "clone", "-q", str(origin), str(dest))
    return dest


def remote_refs(origin: Path) -> list[str]:
    out = git(origin, "for-each-ref", "--format=%(refname)")
    return sorted(out.splitlines())


def objects(repo: Path) -> list[str]:
    """Every object and ref of ``repo``: what a dry run must leave exactly as it was."""
    found = git(repo, "cat-file", "--batch-all-objects", "--batch-check")
    return sorted(found.splitlines()) + remote_refs(repo)


class Said(list[str]):
    """Collects what a promotion says (the CLI prints it on stderr)."""

    def __call__(self, line: str) -> None:
        self.append(line)
