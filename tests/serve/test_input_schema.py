"""The model's input schema: recorded by the `schema` stage next to the model, tracked by
git, shown by the model card."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mergeml.model.io import load_model
from mergeml.model.schema import input_schema, parse_schema, schema_text
from mergeml.project import DEFAULT_LAYOUT, layout_from_text
from tests.helpers import git, mergeml
from tests.projects import ROOT

SCHEMA = "models/input_schema.json"


def test_every_kind_of_column_is_recorded_in_training_order() -> None:
    frame = pd.DataFrame(
        {
            "count": [1, 2, 3],
            "ratio": [0.5, np.nan, 1.5],
            "flag": [True, False, True],
            "colour": pd.Categorical(["red", "blue", None], categories=["red", "blue", "green"]),
            "city": ["Oslo", "Lima", "Oslo"],
        }
    )

    schema = input_schema(frame, "y", np.array([0, 1]))

    assert schema == {
        "format": 1,
        "target": "y",
        "columns": [
            {"name": "count", "dtype": "int", "nullable": False},
            {"name": "ratio", "dtype": "float", "nullable": True},
            {"name": "flag", "dtype": "bool", "nullable": False},
            # the labels seen in training, not every label the dtype could hold
            {
                "name": "colour",
                "dtype": "category",
                "nullable": True,
                "categories": ["blue", "red"],
            },
            {"name": "city", "dtype": "str", "nullable": False, "categories": ["Lima", "Oslo"]},
        ],
        "classes": [0, 1],
    }
    assert parse_schema(schema_text(schema)) == schema
    assert "classes" not in input_schema(frame, "y", None)  # a regressor


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "not json",
        "[]",
        '{"format": 2, "columns": []}',
        '{"format": 1, "columns": [{"name": "a", "dtype": "complex", "nullable": false}]}',
        '{"format": 1, "columns": [{"name": "a", "dtype": "str", "nullable": "no"}]}',
        '{"format": 1, "columns": [{"name": "a", "dtype": "str", "nullable": false, '
        '"categories": [1]}]}',
    ],
)
def test_a_missing_or_foreign_schema_reads_as_none(text: str | None) -> None:
    assert parse_schema(text) is None


def test_the_schema_lives_next_to_the_model_as_a_git_tracked_output() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert stages["schema"]["outs"] == [{SCHEMA: {"cache": False}}]
    assert "data/prepared/train.parquet" in stages["schema"]["deps"]  # what train fits on
    # train keeps only cached outputs: DVC keeps no run cache for a stage with another kind
    assert all(isinstance(out, str) for out in stages["train"]["outs"])
    assert DEFAULT_LAYOUT.schema_path == SCHEMA
    moved = "artifacts:\n  m:\n    path: out/deep/m.skops\n    type: model\n"
    assert layout_from_text(moved).schema_path == "out/deep/input_schema.json"


def test_the_default_project_records_its_columns_and_categories(built_project: Path) -> None:
    assert git(built_project, "ls-files", SCHEMA) == SCHEMA  # readable from git at any ref
    schema = json.loads(git(built_project, "show", f"HEAD:{SCHEMA}"))
    train = pd.read_parquet(built_project / "data/prepared/train.parquet")
    features = train.drop(columns=["is_fraud"])

    model = load_model(built_project / "models/model.skops")
    assert schema["target"] == "is_fraud"
    assert schema["classes"] == model.classes_.tolist() == [0, 1]
    assert [c["name"] for c in schema["columns"]] == list(model.feature_names_in_)
    assert [c["name"] for c in schema["columns"]] == list(features.columns)
    kinds = {c["name"]: c["dtype"] for c in schema["columns"]}
    assert kinds["amount"] == "float"
    assert {n for n, k in kinds.items() if k == "category"} == {
        "merchant_category",
        "channel",
        "country",
    }
    for column in schema["columns"]:
        seen = features[column["name"]].dropna()
        if column["dtype"] == "category":
            assert column["categories"] == sorted(seen.astype(str).unique())
        assert column["nullable"] == bool(features[column["name"]].isna().any())


def test_the_model_card_shows_the_schema_as_a_table(built_project: Path) -> None:
    proc = mergeml(built_project, "card")

    assert proc.returncode == 0, proc.stderr
    section = proc.stdout.split("## Input schema", 1)[1].split("\n## ", 1)[0]
    assert "| column | dtype | missing values in training | categories seen in training |" in (
        section
    )
    assert "| amount | float | no |  |" in section
    channel = next(line for line in section.splitlines() if line.startswith("| channel |"))
    assert channel.startswith("| channel | category | no | ")
    assert channel.count(",") >= 1  # the labels seen, comma-separated
