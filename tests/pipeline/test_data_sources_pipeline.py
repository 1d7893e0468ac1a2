"""A user's data file under data/raw: tracked, a dependency of `prepare`, recorded by md5.

Real git repositories, real `dvc add`, `dvc repro` and `mergeml exp run` on tiny data.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers import dvc, git, mergeml, run

pytestmark = pytest.mark.pipeline

CHURN = "data/raw/churn.csv"
RECIPE = "dvc add data/raw/churn.csv && git add data/raw/churn.csv.dvc data/raw/.gitignore"
EXP_RUN = ("exp", "run", "data=file", "data.target=churned")


def write_churn(repo: Path, seed: int, rel: str = CHURN) -> bytes:
    """200 rows of a small churn table (different rows for each seed); returns the bytes."""
    rng = np.random.default_rng(seed)
    fee = rng.normal(50, 10, size=200)
    frame = pd.DataFrame(
        {
            "tenure_months": rng.integers(0, 60, size=200),
            "monthly_fee": fee.round(2),
            "plan": rng.choice(["basic", "plus", "pro"], size=200),
            "churned": (fee + rng.normal(0, 5, size=200) > 50).astype(int),
        }
    )
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path.read_bytes()


def use_file(repo: Path, rel: str = CHURN) -> None:
    """Make `data=file` on ``rel`` the project's default (params/ only)."""
    config, file_yaml = repo / "params/config.yaml", repo / "params/data/file.yaml"
    config.write_text(config.read_text().replace("  - data: synthetic", "  - data: file"))
    text = file_yaml.read_text().replace("path: ???", f"path: {rel}")
    file_yaml.write_text(text.replace("target: ???", "target: churned"))


def source_file(repo: Path) -> dict:
    return json.loads((repo / "reports/data.json").read_text())["source_file"]


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a failed mergeml command."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("mergeml: error:")
    return line


def experiments(repo: Path) -> list[str]:
    return dvc(repo, "exp", "list", "--all-commits", "--name-only").stdout.split()


def cache_objects(repo: Path) -> set[str]:
    cache = repo / ".dvc/cache"
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()}


def test_replacing_the_data_file_reruns_prepare_train_and_evaluate(project: Path) -> None:
    use_file(project)
    first = write_churn(project, seed=0)
    run(["bash", "-c", RECIPE], project)
    dvc(project, "repro")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "train on churn.csv")
    assert source_file(project) == {
        "path": CHURN,
        "md5": hashlib.md5(first).hexdigest(),
        "size": len(first),
    }
    assert "up to date" in dvc(project, "status").stdout

    second = write_churn(project, seed=1)
    dvc(project, "add", "-q", CHURN)
    status = json.loads(dvc(project, "status", "--json").stdout)
    assert status == {"prepare": [{"changed deps": {"data/raw": "modified"}}]}
    out = dvc(project, "repro").stdout
    assert "Stage 'compose' didn't change, skipping" in out
    for stage in ("prepare", "train", "evaluate"):
        assert f"Running stage '{stage}'" in out
    old_md5, new_md5 = hashlib.md5(first).hexdigest(), hashlib.md5(second).hexdigest()
    assert source_file(project)["md5"] == new_md5 != old_md5
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "new churn rows")

    proc = mergeml(project, "report", "--base", "HEAD~1", "--head", "HEAD", check=True)
    changed = f"Source file `{CHURN}`: **changed** (md5 {old_md5[:8]}… → {new_md5[:8]}…)"
    assert changed in proc.stdout
    doc = json.loads(mergeml(project, "report", "--base", "HEAD~1", "--format", "json").stdout)
    assert doc["data"]["source"]["changed"] is True
    card = mergeml(project, "card", check=True).stdout
    assert f"| md5 of source file {CHURN} | {new_md5} |" in card


def test_the_readme_recipe_works_verbatim_in_a_fresh_clone(project: Path, tmp_path: Path) -> None:
    origin, clone = tmp_path / "origin.git", tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(origin))
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    assert git(clone, "ls-files", "data/raw") == "data/raw/README.md"
    write_churn(clone, seed=0)
    run(["bash", "-c", RECIPE], clone)
    git(clone, "commit", "-q", "-m", "churn data")
    proc = mergeml(clone, *EXP_RUN, f"data.path={CHURN}")
    assert proc.returncode == 0, proc.stderr
    assert "1 experiment(s) done" in proc.stdout
    assert len(experiments(clone)) == 1

    # Another clone has the .dvc file but not the data until `dvc pull`.
    git(clone, "push", "-q", "origin", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    line = error_line(mergeml(other, *EXP_RUN, f"data.path={CHURN}"))
    assert line.endswith(
        f"data file not found: {CHURN} (tracked by DVC: run `dvc pull {CHURN}.dvc`)"
    )


def test_an_untracked_data_file_is_refused_before_any_experiment_runs(project: Path) -> None:
    write_churn(project, seed=0)
    status, cache = git(project, "status", "--porcelain"), cache_objects(project)
    line = error_line(mergeml(project, *EXP_RUN, f"data.path={CHURN}"))
    assert "data file data/raw/churn.csv is not tracked by git or DVC" in line
    assert f"run `dvc add {CHURN}` (or `git add` it)" in line
    assert experiments(project) == []
    assert cache_objects(project) == cache
    assert git(project, "status", "--porcelain") == status


def test_an_untracked_data_file_stops_the_prepare_stage(project: Path) -> None:
    use_file(project)
    write_churn(project, seed=0)
    model = (project / "models/model.skops").read_bytes()
    proc = dvc(project, "repro", check=False)
    assert proc.returncode != 0
    assert f"data file {CHURN} is not tracked by git or DVC" in proc.stdout + proc.stderr
    assert not (project / "data/prepared/train.parquet").exists()
    assert (project / "models/model.skops").read_bytes() == model


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("{outside}", "outside the repository: it cannot be reproduced"),
        ("../churn.csv", "outside the repository: it cannot be reproduced"),
        ("inputs/churn.csv", "data files must live under data/raw/"),
    ],
    ids=["absolute", "parent", "not-data-raw"],
)
def test_a_data_path_outside_data_raw_is_refused_in_one_line(
    project: Path, tmp_path: Path, path: str, problem: str
) -> None:
    outside = tmp_path / "churn.csv"
    write_churn(tmp_path, seed=0, rel="churn.csv")
    write_churn(project, seed=0, rel="inputs/churn.csv")
    git(project, "add", "inputs")
    git(project, "commit", "-q", "-m", "data in the wrong place")
    path = path.format(outside=outside)
    line = error_line(mergeml(project, *EXP_RUN, f"data.path={path}"))
    assert f"data.path: {problem}" in line
    assert repr(path) in line
    assert experiments(project) == []


def test_a_symlink_out_of_the_repository_is_refused(project: Path, tmp_path: Path) -> None:
    write_churn(tmp_path, seed=0, rel="elsewhere.csv")
    (project / CHURN).symlink_to(tmp_path / "elsewhere.csv")
    git(project, "add", CHURN)
    git(project, "commit", "-q", "-m", "a link to data outside the repository")
    line = error_line(mergeml(project, *EXP_RUN, f"data.path={CHURN}"))
    assert f"data.path {CHURN} resolves outside the repository" in line
    use_file(project)
    proc = dvc(project, "repro", check=False)
    assert proc.returncode != 0
    assert "resolves outside the repository" in proc.stdout + proc.stderr
    assert not (project / "data/prepared/train.parquet").exists()


def test_the_default_project_depends_on_data_raw_and_stays_up_to_date(
    built_project: Path,
) -> None:
    assert git(built_project, "ls-files", "data/raw") == "data/raw/README.md"
    lock = yaml.safe_load((built_project / "dvc.lock").read_text())
    assert "data/raw" in [dep["path"] for dep in lock["stages"]["prepare"]["deps"]]
    assert "up to date" in dvc(built_project, "status").stdout
    assert "source_file" not in json.loads((built_project / "reports/data.json").read_text())
