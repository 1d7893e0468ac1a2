"""An integer column with missing values can be declared: `{dtype: int, nullable: true}`.

Issue 10, item 16: CSV has no integer type with gaps, so pandas reads such a column as
float64 and validation refused it as "dtype float64, expected int" whatever `nullable`
said. Declared int columns whose values are all whole become pandas' nullable Int64.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mergeml.config.schema import ColumnConfig, FileData, PrepareParams, SplitConfig
from mergeml.data.prepare import prepare
from mergeml.errors import DataError
from tests.helpers import dvc, git, make_project

RAW = "data/raw/visits.csv"


def visits_csv(n: int = 60, *, gap_every: int = 7, fraction: bool = False) -> str:
    rng = np.random.default_rng(3)
    visits: list[object] = [int(v) for v in rng.integers(0, 30, size=n)]
    for i in range(0, n, gap_every):
        visits[i] = None
    if fraction:
        visits[1] = 2.5
    frame = pd.DataFrame(
        {"visits": visits, "fee": rng.normal(50, 10, size=n).round(2), "churned": [0, 1] * (n // 2)}
    )
    return frame.to_csv(index=False)


def params(root: Path, text: str, *, nullable: bool) -> PrepareParams:
    path = root / RAW
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    columns = {
        "visits": ColumnConfig(dtype="int", nullable=nullable, min=0),
        "fee": ColumnConfig(dtype="float"),
        "churned": ColumnConfig(dtype="int"),
    }
    data = FileData(
        source="file",
        path=RAW,
        target="churned",
        task="classification",
        format="csv",
        columns=columns,
    )
    return PrepareParams(seed=1, data=data, split=SplitConfig(test_size=0.25, stratify=True))


def test_a_nullable_int_column_with_gaps_is_accepted_as_int64(tmp_path: Path) -> None:
    prepared = prepare(params(tmp_path, visits_csv(), nullable=True), tmp_path)
    both = pd.concat([prepared.train, prepared.test])
    assert str(both["visits"].dtype) == "Int64"
    assert int(both["visits"].isna().sum()) == 9
    assert str(both["churned"].dtype) == "int64"


def test_gaps_in_a_non_nullable_int_column_are_null_values_not_a_dtype(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        prepare(params(tmp_path, visits_csv(), nullable=False), tmp_path)
    message = str(caught.value)
    assert "column 'visits': 9 null values in a non-nullable column" in message
    assert "dtype" not in message


def test_fractional_values_in_an_int_column_are_still_a_wrong_dtype(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="column 'visits': dtype float64, expected int"):
        prepare(params(tmp_path, visits_csv(fraction=True), nullable=True), tmp_path)


@pytest.mark.pipeline
def test_a_project_trains_on_a_nullable_int_column(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo")
    (repo / RAW).write_text(visits_csv(n=200))
    config = repo / "params/config.yaml"
    config.write_text(config.read_text().replace("  - data: synthetic", "  - data: file"))
    file_yaml = repo / "params/data/file.yaml"
    text = file_yaml.read_text().replace("path: ???", f"path: {RAW}")
    text = text.replace("target: ???", "target: churned").replace(
        "columns: null",
        "columns:\n  visits: {dtype: int, nullable: true, min: 0}\n"
        "  fee: {dtype: float}\n  churned: {dtype: int}",
    )
    file_yaml.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "visits data")
    dvc(repo, "repro", "-q")
    assert pd.read_parquet(repo / "data/prepared/train.parquet")["visits"].isna().any()
    metrics = json.loads((repo / "reports/metrics.json").read_text())
    assert 0.0 <= metrics["roc_auc"] <= 1.0
