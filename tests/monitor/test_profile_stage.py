"""The `profile` stage: the reference profile beside the model, a git-tracked output."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from mergeml.config.lockfile import output_md5
from mergeml.config.stage import declared_keys
from mergeml.evaluation.profile import read_profile
from mergeml.model.schema import parse_schema
from tests.helpers import dvc, git
from tests.projects import ROOT

PROFILE = "models/reference_profile.json"


def test_the_stage_declares_its_inputs_and_an_uncached_output() -> None:
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["profile"]

    assert stage["outs"] == [{PROFILE: {"cache": False}}]
    for dep in (
        "data/prepared/train.parquet",
        "data/prepared/test.parquet",
        "models/model.skops",
        "models/input_schema.json",
        "src/mergeml/evaluation",
    ):
        assert dep in stage["deps"]
    assert declared_keys(ROOT / "dvc.yaml", "profile") == [
        "threads",
        "data.task",
        "data.target",
        "monitor.drift.small_reference_rows",
        "monitor.drift.categorical_max_unique",
    ]
    ignored = (ROOT / ".gitignore").read_text()
    assert f"!/{PROFILE}" in ignored


@pytest.mark.pipeline
def test_repro_writes_a_valid_git_tracked_profile_of_the_model(built_project: Path) -> None:
    assert git(built_project, "ls-files", PROFILE) == PROFILE
    profile = read_profile(git(built_project, "show", f"HEAD:{PROFILE}"), PROFILE)
    schema = parse_schema(git(built_project, "show", "HEAD:models/input_schema.json"))
    train = pd.read_parquet(built_project / "data/prepared/train.parquet")
    test = pd.read_parquet(built_project / "data/prepared/test.parquet")

    assert schema is not None
    assert list(profile["columns"]) == [c["name"] for c in schema["columns"]]
    assert "is_fraud" not in profile["columns"]
    assert profile["target"] == "is_fraud"
    assert profile["rows"] == len(train)
    assert profile["model_md5"] == output_md5(built_project / "dvc.lock", "models/model.skops")
    assert profile["score"]["name"] == "proba_1"
    assert profile["score"]["count"] == len(test)
    assert (built_project / PROFILE).stat().st_size < 2_000_000
    status = dvc(built_project, "status", "profile").stdout
    assert "changed" not in status
    assert "modified" not in status
