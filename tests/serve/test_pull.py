"""`mergeml pull`, run for real: a built project promoted to staging through a bare origin,
its model pushed to a shared local DVC remote (the session's `promoted`), pulled from a
fresh clone."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import git, mergeml
from tests.serve.conftest import Promoted, clone_promoted

pytestmark = pytest.mark.pipeline

MODEL = "models/model.skops"


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def test_pull_a_stage_from_a_fresh_clone_writes_the_model_and_its_manifest(
    promoted: Promoted, tmp_path: Path
) -> None:
    clone = clone_promoted(promoted.origin, promoted.storage, tmp_path / "clone")
    project = promoted.project

    proc = mergeml(clone, "pull", "staging")

    assert proc.returncode == 0, proc.stderr
    out = clone / "models/staging"
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "model.skops"]
    manifest = json.loads((out / "manifest.json").read_text())
    registry = json.loads(mergeml(clone, "registry", "--json", check=True).stdout)
    (art,) = registry["artifacts"].values()
    assert manifest["version"] == art["stages"]["staging"] == "v0.1.0"
    assert manifest["stage"] == "staging"
    assert manifest["commit"] == git(clone, "rev-parse", "origin/release/staging")
    assert manifest["md5"] == _md5(out / "model.skops") == _md5(project / MODEL)
    assert manifest["name"] == "tabular-model"
    assert manifest["sklearn_version"]
    assert manifest["input_schema"]["columns"][0]["name"] == "amount"
    assert f"pulled tabular-model v0.1.0 (staging, {manifest['commit'][:7]}" in proc.stdout
    assert not (clone / MODEL).exists()  # the workspace's own outputs are left alone


def test_pull_a_revision_into_a_chosen_directory(promoted: Promoted, tmp_path: Path) -> None:
    clone = clone_promoted(promoted.origin, promoted.storage, tmp_path / "clone")
    project = promoted.project
    head = git(clone, "rev-parse", "HEAD")
    out = tmp_path / "served"

    proc = mergeml(clone, "pull", "--rev", "main", "--out", str(out), "--json")

    assert proc.returncode == 0, proc.stderr
    manifest = json.loads(proc.stdout)
    assert manifest == json.loads((out / "manifest.json").read_text())
    assert (manifest["commit"], manifest["stage"], manifest["version"]) == (head, None, "v0.1.0")
    assert manifest["md5"] == _md5(out / "model.skops") == _md5(project / MODEL)
    again = mergeml(clone, "pull", "--rev", "main", "--out", str(out))  # replaces its own
    assert again.returncode == 0, again.stderr
    by_tag = mergeml(clone, "pull", "--rev", "tabular-model@v0.1.0")
    assert by_tag.returncode == 0, by_tag.stderr
    assert json.loads((clone / "models/v0.1.0/manifest.json").read_text())["commit"] == head


def test_a_stage_and_a_revision_or_neither_is_a_usage_error(tmp_path: Path) -> None:
    for args in ([], ["staging", "--rev", "HEAD"]):
        proc = mergeml(tmp_path, "pull", *args)
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [
            "mergeml: error: give a STAGE or --rev REV (one of them)"
        ]


def test_a_tampered_remote_object_is_refused_and_nothing_is_written(
    promoted: Promoted, tmp_path: Path
) -> None:
    storage = shutil.copytree(promoted.storage, tmp_path / "storage")  # this test's to change
    clone = clone_promoted(promoted.origin, storage, tmp_path / "clone")
    md5 = json.loads(mergeml(clone, "pull", "staging", "--json", check=True).stdout)["md5"]
    (clone / "models/staging/model.skops").unlink()
    (clone / "models/staging/manifest.json").unlink()
    (clone / "models/staging").rmdir()
    obj = storage / "files/md5" / md5[:2] / md5[2:]
    data = bytearray(obj.read_bytes())
    data[-100] ^= 0xFF
    obj.chmod(0o644)
    obj.write_bytes(bytes(data))

    proc = mergeml(clone, "pull", "staging")

    assert proc.returncode == 1
    assert proc.stderr.startswith(
        "mergeml: error: md5 mismatch: models/model.skops of tabular-model"
    )
    assert len(proc.stderr.strip().splitlines()) == 1
    tracked = ["input_schema.json", "reference_profile.json"]  # git-tracked, not pulled
    assert sorted(p.name for p in (clone / "models").iterdir()) == tracked


def test_an_unknown_stage_is_refused_naming_the_stages(promoted: Promoted, tmp_path: Path) -> None:
    clone = clone_promoted(promoted.origin, promoted.storage, tmp_path / "clone")

    proc = mergeml(clone, "pull", "qa")

    assert proc.returncode == 1
    assert proc.stderr.startswith("mergeml: error: unknown stage 'qa':")
    assert "staging, production" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_an_empty_stage_says_nothing_is_there(promoted: Promoted, tmp_path: Path) -> None:
    clone = clone_promoted(promoted.origin, promoted.storage, tmp_path / "clone")

    proc = mergeml(clone, "pull", "production")

    assert proc.returncode == 1
    assert proc.stderr.startswith(
        "mergeml: error: nothing in stage 'production': no release/production"
    )
    assert not (clone / "models/production").exists()


def test_a_stage_unassigned_by_a_tag_is_empty(promoted: Promoted, tmp_path: Path) -> None:
    clone = clone_promoted(promoted.origin, promoted.storage, tmp_path / "clone")
    git(clone, "tag", "-a", "tabular-model#staging!#2", "-m", "withdrawn", "origin/release/staging")

    proc = mergeml(clone, "pull", "staging")

    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "mergeml: error: nothing in stage 'staging': tabular-model was unassigned from it "
        "(its newest staging tag ends in '!')"
    ]


def test_a_model_missing_from_the_remote_says_the_default_remote_is_per_clone(
    promoted: Promoted, tmp_path: Path
) -> None:
    clone = clone_promoted(promoted.origin, None, tmp_path / "clone")  # its own empty remote

    proc = mergeml(clone, "pull", "staging")

    assert proc.returncode == 1
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1
    assert line.startswith("mergeml: error: models/model.skops of tabular-model v0.1.0 (md5 ")
    assert "is neither in the DVC cache nor readable from remote 'local'" in line
    assert "per clone" in line
    assert "shared remote" in line
    assert not (clone / "models/staging").exists()


def test_an_existing_directory_that_is_not_a_pull_is_never_replaced(
    promoted: Promoted, tmp_path: Path
) -> None:
    clone = clone_promoted(promoted.origin, promoted.storage, tmp_path / "clone")
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")

    proc = mergeml(clone, "pull", "staging", "--out", str(keep))

    assert proc.returncode == 1
    assert "is not an earlier `mergeml pull` output" in proc.stderr
    assert sorted(p.name for p in keep.iterdir()) == ["notes.txt"]
