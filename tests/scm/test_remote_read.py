"""`registry --remote` and `history --remote` read a remote without cloning it."""

from __future__ import annotations

import json
from pathlib import Path

from mergeml.api import release as api
from tests.helpers import mergeml
from tests.scm.repos import clone, write_model


def test_registry_and_history_of_a_remote_match_a_clone(origin: Path, tmp_path: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.9, "model one")
    api.promote("staging", message="first cut", repo=repo)
    write_model(repo, "2" * 32, 0.93, "model two")
    api.promote("staging", repo=repo)
    api.promote("production", repo=repo)

    outside = tmp_path / "elsewhere"  # not a git repository: REMOTE is a path or URL
    outside.mkdir()
    remote = json.loads(mergeml(outside, "registry", "--json", "--remote", str(origin)).stdout)
    local = json.loads(mergeml(repo, "registry", "--json").stdout)
    assert remote == local
    versions = remote["artifacts"]["tabular-model"]["versions"]
    assert [v["model_md5"] for v in versions] == ["1" * 32, "2" * 32]
    assert versions[1]["metrics"] == {"roc_auc": 0.93}
    assert remote["artifacts"]["tabular-model"]["stages"] == {
        "production": "v0.2.0",
        "staging": "v0.2.0",
    }

    by_name = mergeml(repo, "history", "staging", "--json", "--remote", "origin")
    assert by_name.returncode == 0, by_name.stderr
    history = json.loads(by_name.stdout)
    assert [h["version"] for h in history] == ["v0.1.0", "v0.2.0"]
    assert "first cut" in history[0]["message"]
    assert api.registry(remote=str(origin)).as_dict() == local
    assert [h.as_dict() for h in api.history("staging", remote="origin", repo=repo)] == history


def test_an_unreachable_remote_is_one_clear_line(tmp_path: Path) -> None:
    proc = mergeml(tmp_path, "registry", "--remote", str(tmp_path / "missing.git"))
    assert proc.returncode != 0
    assert "cannot read the registry of" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
