"""`mergeml registry` and `history` read GTO-grammar tags from git and agree with `gto show`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import git, mergeml, run

DVC_YAML = "artifacts:\n  tabular-model:\n    path: models/model.skops\n    type: model\n"


def gto(repo: Path, *args: str) -> str:
    return run([str(Path(sys.executable).parent / "gto"), *args], repo).stdout


def commit(repo: Path, name: str, metrics: dict | None = None) -> str:
    (repo / "notes.txt").write_text(name)
    if metrics is not None:
        (repo / "reports").mkdir(exist_ok=True)
        (repo / "reports/metrics.json").write_text(json.dumps(metrics))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", name)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def registry_repo(tmp_path: Path) -> dict[str, object]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    # gto reads the identity from the repository's own config, not GIT_CONFIG_GLOBAL.
    git(repo, "config", "user.name", "Test User")
    git(repo, "config", "user.email", "test@example.com")
    (repo / "dvc.yaml").write_text(DVC_YAML)
    first = commit(repo, "first", {"roc_auc": 0.9})
    gto(repo, "register", "tabular-model", first, "--version", "v1.0.0")
    gto(repo, "assign", "tabular-model", "--version", "v1.0.0", "--stage", "staging")
    (repo / "reports/metrics.json").unlink()
    second = commit(repo, "second")  # no metrics in git at this commit
    gto(repo, "register", "tabular-model", second, "--version", "v1.1.0")
    gto(repo, "assign", "tabular-model", "--version", "v1.1.0", "--stage", "staging")
    gto(repo, "assign", "tabular-model", "--version", "v1.0.0", "--stage", "production")
    # Roll staging back to v1.0.0 with a new assignment: forward-only.
    gto(repo, "assign", "tabular-model", "--version", "v1.0.0", "--stage", "staging", "--force")
    return {"repo": repo, "first": first, "second": second}


@pytest.mark.pipeline  # runs gto: slow tier
def test_registry_agrees_with_gto_show(registry_repo: dict) -> None:
    repo = registry_repo["repo"]
    ours = json.loads(mergeml(repo, "registry", "--json", check=True).stdout)
    theirs = json.loads(gto(repo, "show", "--json"))
    for name, art in theirs.items():
        assert ours["artifacts"][name]["latest"] == art["version"]
        assert ours["artifacts"][name]["stages"] == art["stage"]
    assert ours["artifacts"]["tabular-model"]["stages"] == {
        "production": "v1.0.0",
        "staging": "v1.0.0",
    }


@pytest.mark.pipeline  # runs gto: slow tier
def test_versions_carry_commit_metrics_or_say_they_are_unavailable(registry_repo: dict) -> None:
    repo = registry_repo["repo"]
    data = json.loads(mergeml(repo, "registry", "--json", check=True).stdout)
    versions = {v["version"]: v for v in data["artifacts"]["tabular-model"]["versions"]}
    assert versions["v1.0.0"]["commit"] == registry_repo["first"]
    assert versions["v1.0.0"]["metrics"] == {"roc_auc": 0.9}
    assert versions["v1.1.0"]["metrics"] is None
    assert versions["v1.1.0"]["model_md5"] is None
    text = mergeml(repo, "registry", check=True).stdout
    assert "metrics unavailable" in text


@pytest.mark.pipeline  # runs gto: slow tier
def test_history_lists_every_assignment_in_order(registry_repo: dict) -> None:
    repo = registry_repo["repo"]
    items = json.loads(mergeml(repo, "history", "staging", "--json", check=True).stdout)
    assert [(i["version"], i["number"]) for i in items] == [
        ("v1.0.0", 1),
        ("v1.1.0", 2),
        ("v1.0.0", 4),  # GTO numbers assignments per artifact, across stages
    ]
    assert all(i["actor"] == "Test User" for i in items)
    assert "Assigning stage staging" in items[0]["message"]
    assert "no assignments" in mergeml(repo, "history", "qa", check=True).stdout


@pytest.mark.pipeline  # runs gto: slow tier
def test_a_release_branch_that_disagrees_with_the_newest_tag_is_flagged(
    registry_repo: dict,
) -> None:
    repo = registry_repo["repo"]
    git(repo, "branch", "release/staging", str(registry_repo["second"]))
    data = json.loads(mergeml(repo, "registry", "--json", check=True).stdout)
    assert any("release/staging" in w for w in data["warnings"])
    git(repo, "branch", "-f", "release/staging", str(registry_repo["first"]))
    data = json.loads(mergeml(repo, "registry", "--json", check=True).stdout)
    assert data["warnings"] == []


def test_any_stage_names_and_foreign_tags_are_handled(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    sha = commit(repo, "one")
    git(repo, "tag", "-a", "other-model@v0.1.0", "-m", "register", sha)
    git(repo, "tag", "-a", "other-model#canary#1", "-m", "assign", sha)
    git(repo, "tag", "-a", "release-2024", "-m", "not GTO", sha)
    git(repo, "tag", "lightweight", sha)
    data = json.loads(mergeml(repo, "registry", "--json", check=True).stdout)
    assert data["artifacts"] == {
        "other-model": {
            "latest": "v0.1.0",
            "stages": {"canary": "v0.1.0"},
            "versions": data["artifacts"]["other-model"]["versions"],
        }
    }


def test_a_broken_lock_file_at_one_version_is_unavailable_not_fatal(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "dvc.lock").write_text("stages: [unclosed\n")
    sha = commit(repo, "broken lock")
    git(repo, "tag", "-a", "tabular-model@v0.1.0", "-m", "register", sha)
    data = json.loads(mergeml(repo, "registry", "--json", check=True).stdout)
    [version] = data["artifacts"]["tabular-model"]["versions"]
    assert version["model_md5"] is None


@pytest.mark.pipeline  # runs gto: slow tier
def test_gto_reads_the_tags_mergeml_writes(origin: Path) -> None:
    from tests.scm.repos import clone, write_model

    repo = clone(origin, "a")
    git(repo, "config", "user.name", "Test User")
    git(repo, "config", "user.email", "test@example.com")
    # Tag times have one-second resolution and gto cannot order two assignments made in
    # the same second (mergeml breaks the tie by N): give every command its own second.
    steps = iter(range(10))

    def act(*args: str) -> None:
        when = {"GIT_COMMITTER_DATE": f"2026-01-01T00:00:{next(steps):02d}+0000"}
        run([sys.executable, "-m", "mergeml", *args], repo, env=when)

    write_model(repo, "1" * 32, 0.90, "model one")
    act("promote", "staging")
    act("promote", "production")
    write_model(repo, "2" * 32, 0.92, "model two")
    act("promote", "staging")
    act("promote", "production")
    act("rollback", "production")
    ours = json.loads(mergeml(repo, "registry", "--json", check=True).stdout)
    theirs = json.loads(gto(repo, "show", "--json"))["tabular-model"]
    assert ours["artifacts"]["tabular-model"]["stages"] == {
        "production": "v0.1.0",
        "staging": "v0.2.0",
    }
    assert theirs["stage"] == ours["artifacts"]["tabular-model"]["stages"]
    assert theirs["version"] == ours["artifacts"]["tabular-model"]["latest"] == "v0.2.0"


@pytest.mark.pipeline  # runs gto: slow tier
def test_pre_release_versions_and_any_case_stages_agree_with_gto(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test User")
    git(repo, "config", "user.email", "test@example.com")
    (repo / "dvc.yaml").write_text(DVC_YAML.replace("tabular-model", "churn"))
    first = commit(repo, "one")
    second = commit(repo, "two")
    third = commit(repo, "three")
    git(repo, "tag", "-a", "churn@v1.0.0", "-m", "register", first)
    git(repo, "tag", "-a", "churn@v1.1.0-rc.2", "-m", "register", second)
    git(repo, "tag", "-a", "churn@v1.1.0-rc.10", "-m", "register", third)
    git(repo, "tag", "-a", "churn#Prod#1", "-m", "assign", third)
    ours = json.loads(mergeml(repo, "registry", "--json", check=True).stdout)["artifacts"]
    assert [v["version"] for v in ours["churn"]["versions"]] == [
        "v1.0.0",
        "v1.1.0-rc.2",
        "v1.1.0-rc.10",  # numeric pre-release parts compare as numbers
    ]
    assert ours["churn"]["stages"] == {"Prod": "v1.1.0-rc.10"}
    theirs = json.loads(gto(repo, "show", "--json"))["churn"]
    assert theirs["stage"] == ours["churn"]["stages"]
    assert theirs["version"] == ours["churn"]["latest"]
