"""A file over 50 MB in git (not DVC) fails `make lint` and CI with one line (SECURITY E7)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mergeml.review.large_files import MB, describe, too_large
from tests.helpers import git, mergeml, run
from tests.projects import ROOT


def repo_with(tmp_path: Path, files: dict[str, int], *, commit: bool = True) -> Path:
    """A git repository holding ``files`` (path → size in bytes; zeros, which git packs small)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README.md").write_text("small\n")
    for name, size in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.truncate(size)
    git(repo, "add", "-A")
    if commit:
        git(repo, "commit", "-q", "-m", "files")
    return repo


def test_a_file_over_50_mb_committed_to_git_fails_with_one_line_naming_it(
    tmp_path: Path,
) -> None:
    repo = repo_with(tmp_path, {"data/raw/big table.csv": 51 * MB})
    proc = mergeml(repo, "check-large-files")
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert "data/raw/big table.csv is 51.0 MB in git" in line
    assert "50.0 MB limit" in line
    assert "dvc add 'data/raw/big table.csv'" in line


def test_a_staged_large_file_fails_before_it_is_committed(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"models/model.bin": 3 * MB}, commit=False)
    proc = mergeml(repo, "check-large-files", "--max-mb", "2")
    assert proc.returncode == 1
    assert "models/model.bin is 3.0 MB in git" in proc.stderr


def test_files_under_the_limit_and_files_only_in_the_workspace_pass(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"data/small.csv": 1 * MB})
    (repo / "data" / "untracked.bin").write_bytes(b"\0" * (3 * MB))  # e.g. a DVC output
    proc = mergeml(repo, "check-large-files", "--max-mb", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2 files in git, none over 2 MB"


def test_the_limit_is_configurable_and_must_be_positive(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"a.bin": 2 * MB})
    assert mergeml(repo, "check-large-files", "--max-mb", "1.5").returncode == 1
    assert mergeml(repo, "check-large-files", "--max-mb", "2.5").returncode == 0
    refused = mergeml(repo, "check-large-files", "--max-mb", "0")
    assert refused.returncode != 0
    assert len(refused.stderr.strip().splitlines()) == 1


def test_outside_a_git_repository_it_fails_with_one_line(tmp_path: Path) -> None:
    proc = mergeml(tmp_path, "check-large-files")
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1


def test_several_large_files_name_the_largest_and_count_the_rest() -> None:
    sizes = {"a.bin": 60 * MB, "b.bin": 70 * MB, "c.txt": 10, "d.bin": 55 * MB}
    found = too_large(sizes, 50 * MB)
    assert [path for path, _ in found] == ["b.bin", "a.bin", "d.bin"]
    line = describe(found, 50 * MB)
    assert line.startswith("b.bin is 70.0 MB in git (and 2 more)")
    assert "\n" not in line


def test_make_lint_runs_the_check() -> None:
    dry = run(["make", "-n", "lint", "MAX_GIT_FILE_MB=12"], ROOT).stdout
    assert "mergeml check-large-files --max-mb 12" in dry


@pytest.mark.parametrize("workflow", ["ci.yml"])
def test_ci_runs_the_check_on_pull_requests(workflow: str) -> None:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text())
    (steps,) = [job["steps"] for job in doc["jobs"].values()]
    runs = [str(step.get("run", "")) for step in steps if "if" not in step]
    assert any("make lint" in cmd or "mergeml check-large-files" in cmd for cmd in runs)
    triggers = doc[True] if True in doc else doc["on"]  # YAML 1.1 reads `on:` as True
    assert "pull_request" in triggers
