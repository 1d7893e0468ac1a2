"""params.yaml is validated into typed, frozen schemas at each stage boundary."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from mergeml.config.compose import compose_params
from mergeml.config.schema import (
    FileData,
    PrepareParams,
    TrainParams,
    parse_params,
    parse_section,
)
from mergeml.config.stage import declared_keys, load_stage_params, view
from mergeml.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
BASE = compose_params(ROOT / "params", check_estimators=False)  # the mapping; no sklearn import


def with_change(path: str, value: object) -> dict:
    data = copy.deepcopy(BASE)
    node = data
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "pattern"),
    [
        ("data.n_rows", "abc", r"data.n_rows: .*integer.*'abc'"),
        ("data.n_rows", 1.5, r"data.n_rows"),
        ("data.drift", "yes", r"data.drift"),
        ("split.stratify", "true", r"split.stratify"),
        ("data.colour", "red", r"unknown key 'data.colour'"),
        ("evaluate.gates.min.roc_auc", "high", r"evaluate.gates.min.roc_auc"),
        ("surprise", 1, r"unknown key 'surprise'"),
    ],
)
def test_wrong_types_and_unknown_keys_name_the_key_path(
    path: str, value: object, pattern: str
) -> None:
    with pytest.raises(ConfigError, match=pattern):
        parse_params(with_change(path, value))


def test_schemas_are_frozen() -> None:
    params = parse_params(BASE)
    with pytest.raises(ValidationError):
        params.split.test_size = 0.5  # type: ignore[misc]


def test_stage_views_hold_only_declared_keys() -> None:
    keys = declared_keys(ROOT / "dvc.yaml", "train")
    assert keys == ["threads", "data.task", "data.target", "preprocess", "model"]
    got = view(BASE, keys, where="params.yaml")
    assert set(got) == {"threads", "data", "preprocess", "model"}
    assert set(got["data"]) == {"task", "target"}


@pytest.mark.parametrize(("stage", "schema"), [("prepare", PrepareParams), ("train", TrainParams)])
def test_each_stage_schema_matches_its_declaration(stage: str, schema: type) -> None:
    keys = declared_keys(ROOT / "dvc.yaml", stage)
    params = parse_section(schema, view(BASE, keys, where="x"), where="x")
    assert params is not None


def test_stage_params_refuse_a_bad_value_in_params_yaml(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text((ROOT / "dvc.yaml").read_text())
    bad = with_change("model.learning_rate", "abc")
    bad["data"]["n_rows"] = "many"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError, match=r"params.yaml: data.n_rows"):
        load_stage_params("prepare", PrepareParams, tmp_path)


def test_stage_params_need_their_declared_keys(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text((ROOT / "dvc.yaml").read_text())
    data = copy.deepcopy(BASE)
    del data["split"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="declared key 'split' is missing"):
        load_stage_params("prepare", PrepareParams, tmp_path)


def file_data(path: str) -> dict:
    return {
        "source": "file",
        "path": path,
        "target": "y",
        "task": "classification",
        "format": "auto",
    }


@pytest.mark.parametrize(
    "path", ["data/raw/churn.csv", "./data/raw/churn.csv", "data/raw/2024/churn.parquet"]
)
def test_a_data_file_under_data_raw_is_accepted(path: str) -> None:
    assert parse_section(FileData, file_data(path), where="x", prefix="data").path == path


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/home/me/churn.csv", "outside the repository: it cannot be reproduced"),
        ("../churn.csv", "outside the repository: it cannot be reproduced"),
        ("data/raw/../../../churn.csv", "outside the repository: it cannot be reproduced"),
        ("churn.csv", "data files must live under data/raw/"),
        ("inputs/churn.csv", "data files must live under data/raw/"),
        ("data/churn.csv", "data files must live under data/raw/"),
        ("data/raw", "data files must live under data/raw/"),
        ("data/rawdata/churn.csv", "data files must live under data/raw/"),
    ],
)
def test_a_data_path_outside_data_raw_is_refused_naming_key_and_value(
    path: str, problem: str
) -> None:
    data = copy.deepcopy(BASE)
    data["data"] = file_data(path)
    with pytest.raises(ConfigError) as info:
        parse_params(data)
    message = str(info.value)
    assert message.startswith(f"params.yaml: data.path: {problem}")
    assert repr(path) in message
    assert "\n" not in message
