"""release.yml's model-in-remote check, run for real: the exact command from the workflow
fails in a fresh clone while the DVC remote lacks the model, and passes after `dvc push`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import dvc, git, run
from tests.projects import ROOT

pytestmark = pytest.mark.pipeline

MODEL = "models/model.skops"


def release_remote_check() -> list[str]:
    """The `dvc` command of release.yml's remote check, run with this interpreter's DVC."""
    workflow = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text())
    (command,) = [
        step["run"]
        for step in workflow["jobs"]["release"]["steps"]
        if step.get("run", "").startswith(".venv/bin/dvc ")
    ]
    args = shlex.split(command)
    assert args[1:] == ["pull", MODEL], command
    return [sys.executable, "-m", "dvc", *args[1:]]


def test_release_remote_check_fails_until_the_model_is_pushed(
    project: Path, tmp_path: Path
) -> None:
    check = release_remote_check()
    storage = tmp_path / "storage"
    dvc(project, "remote", "modify", "--local", "local", "url", str(storage))
    # A fresh clone, as on a runner: no DVC cache, a remote nobody has pushed to.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(project), str(clone))
    dvc(clone, "remote", "modify", "--local", "local", "url", str(storage))

    missing = run(check, clone, check=False)

    assert missing.returncode != 0
    assert MODEL in missing.stderr
    assert not (clone / MODEL).exists()

    dvc(project, "push")
    present = run(check, clone, check=False)

    assert present.returncode == 0, present.stderr
    assert (clone / MODEL).read_bytes() == (project / MODEL).read_bytes()
