"""`mergeml check-ref REF`: what a pushed ref did to a model, read from real git tags and
agreeing with `gto check-ref`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mergeml.api import release as api
from mergeml.api.release import check_ref
from mergeml.errors import PromotionError, ScmError
from tests.helpers import git, mergeml, run
from tests.scm.repos import clone, write_model

NAME = "tabular-model"


def tag(repo: Path, name: str, commit: str) -> None:
    git(repo, "tag", "-a", name, commit, "-m", f"by tester: {name}")


def commit(repo: Path, text: str) -> str:
    (repo / "notes.txt").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", text)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> dict[str, object]:
    """v1.0.0 then v1.1.0 in staging, v1.0.0 in production; v0.9.0 deregistered."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test User")
    git(repo, "config", "user.email", "test@example.com")
    old, first, second = commit(repo, "old"), commit(repo, "first"), commit(repo, "second")
    tag(repo, f"{NAME}@v0.9.0", old)
    tag(repo, f"{NAME}@v0.9.0!", old)
    tag(repo, f"{NAME}@v1.0.0", first)
    tag(repo, f"{NAME}#staging#1", first)
    tag(repo, f"{NAME}@v1.1.0", second)
    tag(repo, f"{NAME}#staging#2", second)
    tag(repo, f"{NAME}#production#3", first)
    tag(repo, f"{NAME}#production!#4", first)
    git(repo, "tag", "-a", "release-notes", second, "-m", "not a registry tag")
    return {"repo": repo, "first": first, "second": second, "old": old}


def test_a_stage_tag_is_an_assignment_of_the_version_at_its_commit(repo: dict) -> None:
    event = check_ref(f"refs/tags/{NAME}#staging#2", repo=repo["repo"])

    assert event.as_dict() == {
        "ref": f"refs/tags/{NAME}#staging#2",
        "kind": "assignment",
        "name": NAME,
        "version": "v1.1.0",
        "stage": "staging",
        "commit": repo["second"],
        "current": True,
    }


def test_an_older_assignment_of_the_stage_is_no_longer_current(repo: dict) -> None:
    event = check_ref(f"{NAME}#staging#1", repo=repo["repo"])

    assert (event.kind, event.version, event.current) == ("assignment", "v1.0.0", False)
    assert "no longer the newest staging event" in event.describe()


@pytest.mark.parametrize(
    ("ref", "kind", "version", "stage"),
    [
        (f"{NAME}@v1.0.0", "registration", "v1.0.0", None),
        (f"refs/tags/{NAME}@v0.9.0!", "deregistration", "v0.9.0", None),
        (f"{NAME}#production!#4", "unassignment", "v1.0.0", "production"),
    ],
)
def test_registrations_and_unassignments_are_told_apart(
    repo: dict, ref: str, kind: str, version: str, stage: str | None
) -> None:
    event = check_ref(ref, repo=repo["repo"])

    assert (event.kind, event.name, event.version, event.stage) == (kind, NAME, version, stage)
    assert event.kind != "assignment"  # the deploy workflow builds nothing for these


@pytest.mark.parametrize(
    "ref", ["refs/heads/main", "main", "release-notes", "refs/tags/release-notes", "v1.0.0"]
)
def test_any_other_ref_records_nothing(repo: dict, ref: str) -> None:
    event = check_ref(ref, repo=repo["repo"])

    assert event.kind is None
    assert event.as_dict() == {"ref": ref, **dict.fromkeys(list(event.as_dict())[1:])}


def test_a_ref_that_records_nothing_needs_no_repository(tmp_path: Path) -> None:
    proc = mergeml(tmp_path, "check-ref", "refs/heads/main", "--json", check=True)

    assert json.loads(proc.stdout)["kind"] is None


def test_a_registry_tag_missing_from_the_clone_is_an_error_naming_it(repo: dict) -> None:
    with pytest.raises(ScmError, match=r"tag 'tabular-model#staging#9' not found.*fetch-depth"):
        check_ref(f"{NAME}#staging#9", repo=repo["repo"])


def test_a_lightweight_tag_is_not_a_registry_event(repo: dict) -> None:
    git(repo["repo"], "tag", f"{NAME}#staging#5", str(repo["second"]))

    with pytest.raises(ScmError, match="not found as an annotated tag"):
        check_ref(f"{NAME}#staging#5", repo=repo["repo"])


def test_an_assignment_of_an_unregistered_commit_is_refused(repo: dict) -> None:
    loose = commit(repo["repo"], "loose")
    tag(repo["repo"], f"{NAME}#staging#6", loose)

    with pytest.raises(PromotionError, match=r"no version of tabular-model is registered"):
        check_ref(f"{NAME}#staging#6", repo=repo["repo"])


def test_the_cli_prints_one_json_line_for_the_workflow(repo: dict) -> None:
    proc = mergeml(repo["repo"], "check-ref", f"refs/tags/{NAME}#staging#2", "--json", check=True)

    assert proc.stdout.count("\n") == 1  # one line: fit for $GITHUB_OUTPUT
    doc = json.loads(proc.stdout)
    assert (doc["kind"], doc["version"], doc["stage"]) == ("assignment", "v1.1.0", "staging")
    text = mergeml(repo["repo"], "check-ref", f"{NAME}@v1.1.0", check=True).stdout
    assert text == f"registration: {NAME} v1.1.0 at {str(repo['second'])[:7]}\n"


def test_the_cli_reports_a_missing_tag_in_one_line(repo: dict) -> None:
    proc = mergeml(repo["repo"], "check-ref", f"{NAME}@v7.0.0")

    assert proc.returncode != 0
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"mergeml: error: tag '{NAME}@v7.0.0' not found as an annotated tag in "
        f"{repo['repo']}: fetch the tags (`git fetch --tags`; a checkout needs fetch-depth: 0)"
    ]


@pytest.mark.pipeline  # runs gto: slow tier
@pytest.mark.parametrize(
    "ref", [f"{NAME}@v1.0.0", f"{NAME}#staging#2", f"{NAME}#staging#1", f"{NAME}@v0.9.0!"]
)
def test_agrees_with_gto_check_ref(repo: dict, ref: str) -> None:
    gto = str(Path(sys.executable).parent / "gto")
    theirs = json.loads(run([gto, "check-ref", ref, "--json"], repo["repo"]).stdout)
    ours = check_ref(ref, repo=repo["repo"])

    assert ours.kind == theirs["event"]
    assert (ours.name, ours.version, ours.commit) == (
        theirs["artifact"],
        theirs["version"],
        theirs["commit_hexsha"],
    )
    assert ours.stage == theirs.get("stage")


def test_the_tags_mergeml_promote_pushes_are_read_in_a_fresh_clone(origin: Path) -> None:
    """As the deploy runner sees them: promote twice, then check the pushed stage tags."""
    repo = clone(origin, "laptop")
    write_model(repo, "1" * 32, 0.9, "model one")
    api.promote("staging", repo=repo, say=lambda _: None)
    second = write_model(repo, "2" * 32, 0.92, "model two")
    api.promote("staging", repo=repo, say=lambda _: None)
    runner = clone(origin, "runner")

    newest = check_ref(f"refs/tags/{NAME}#staging#2", repo=runner)
    older = check_ref(f"refs/tags/{NAME}#staging#1", repo=runner)

    assert (newest.kind, newest.version, newest.commit, newest.current) == (
        "assignment",
        "v0.2.0",
        second,
        True,
    )
    assert (older.version, older.current) == ("v0.1.0", False)
