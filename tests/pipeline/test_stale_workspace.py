"""`gate`, `report` and `verify-built` judge the workspace only when `dvc repro` made it.

Issue 10, item 14: after an edit under params/ without `dvc repro` all three passed on
the previous run's metrics. Real built projects, real `dvc repro`, real CLI runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import dvc, git, mergeml

pytestmark = pytest.mark.pipeline

MODEL = "params/model/hist_gradient_boosting.yaml"
WORKSPACE_COMMANDS = (("gate",), ("report", "--base", "main"), ("verify-built",))


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("mergeml: error: "), proc.stderr
    return lines[0]


def edit_params(project: Path) -> None:
    path = project / MODEL
    path.write_text(path.read_text().replace("max_iter: 20", "max_iter: 21"))


@pytest.mark.parametrize("args", WORKSPACE_COMMANDS, ids=lambda a: a[0])
def test_an_edit_under_params_without_repro_is_refused(project: Path, args: tuple[str]) -> None:
    edit_params(project)
    line = error_line(mergeml(project, *args))
    assert "params/ changed since params.yaml was composed" in line
    assert "run `dvc repro` (or `make repro`)" in line
    assert f"before `mergeml {args[0]}`" in line


def test_a_params_yaml_composed_but_not_reproduced_is_refused(project: Path) -> None:
    assert mergeml(project, "params", "compose", "model.max_iter=21").returncode == 0
    line = error_line(mergeml(project, "gate"))
    assert "the workspace is not what dvc.lock records (train: model in params.yaml)" in line
    assert "dvc repro" in line


def test_a_code_change_without_repro_names_the_stages(project: Path) -> None:
    with (project / "src/mergeml/model/train.py").open("a") as handle:
        handle.write("# changed\n")
    line = error_line(mergeml(project, "verify-built"))
    assert (
        "train: src/mergeml/model; schema: src/mergeml/model; profile: src/mergeml/model; "
        "evaluate: src/mergeml/model" in line
    )


def test_a_report_between_committed_refs_does_not_read_the_workspace(project: Path) -> None:
    edit_params(project)
    proc = mergeml(project, "report", "--base", "main", "--head", "main")
    assert proc.returncode == 0, proc.stderr
    assert "mergeml report" in proc.stdout


def test_outputs_not_pulled_are_not_stale(project: Path) -> None:
    for rel in ("models/model.skops", "data/prepared/train.parquet"):
        (project / rel).unlink()
    assert mergeml(project, "gate").returncode == 0


def test_after_repro_all_three_pass_even_with_bytecode_in_the_sources(project: Path) -> None:
    """As in CI: the stages import the checkout's src/, and Python writes __pycache__ there."""
    edit_params(project)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(project / "src")
    for args in (
        ("-m", "dvc", "repro", "-q"),
        # More modules compiled after the run (as `make test` does in CI) change nothing.
        ("-c", "import mergeml.data.preflight, mergeml.review.gates"),
    ):
        subprocess.run([sys.executable, *args], cwd=project, env=env, check=True)
    assert list((project / "src/mergeml/data").glob("__pycache__/*.pyc"))
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "max_iter 21")
    assert dvc(project, "status", "--json").stdout.strip() == "{}"
    for args in WORKSPACE_COMMANDS:
        proc = mergeml(project, *args)
        assert proc.returncode == 0, proc.stderr


def test_without_a_compose_stage_params_yaml_is_composed_and_compared(project: Path) -> None:
    dvc_yaml = project / "dvc.yaml"
    doc = yaml.safe_load(dvc_yaml.read_text())
    del doc["stages"]["compose"]  # params.yaml is then written by `mergeml params compose`
    dvc_yaml.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert mergeml(project, "gate").returncode == 0
    edit_params(project)
    line = error_line(mergeml(project, "gate"))
    assert "params/ changed since params.yaml was composed" in line
