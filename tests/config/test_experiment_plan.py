"""`experiments.plan` reads params/ once: a run queueing beside it has DVC edit the
workspace's params/ for a moment, and that edit must not make a valid point look
inexpressible (seen in CI as a refused sweep point)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from mergeml.config.compose import compose_params
from mergeml.pipeline import experiments

ROOT = Path(__file__).resolve().parents[2]


def test_an_edit_of_params_during_planning_does_not_refuse_a_valid_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dvc.utils.hydra import apply_overrides

    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    calls: list[Path] = []

    def compose_then_another_run_edits(directory: Path, *args: Any, **kwargs: Any) -> Any:
        composed = compose_params(directory, *args, **kwargs)
        if not calls:  # the fault: another run's `-S` edit lands in the workspace now
            apply_overrides(params / "config.yaml", ["++model.learning_rate=0.5"])
        calls.append(directory)
        return composed

    monkeypatch.setattr(experiments, "compose_params", compose_then_another_run_edits)

    (planned,) = experiments.plan(params, ["model.max_iter=5"])

    assert planned.params["model"]["max_iter"] == 5
    assert planned.params["model"]["learning_rate"] != 0.5  # the other run's edit is not ours
    assert all(arg.startswith(f"{params.as_posix()}/config.yaml:") for arg in planned.set_params)
    assert params not in calls  # composed from the copy only


def test_a_missing_config_is_named_in_params_not_in_the_copy(tmp_path: Path) -> None:
    params = tmp_path / "params"
    params.mkdir()
    with pytest.raises(Exception, match=f"{params}/config.yaml not found"):
        experiments.plan(params, ["model.max_iter=5"])
