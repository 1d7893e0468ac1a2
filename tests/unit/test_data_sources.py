from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mergeml.data.sources import (
    load_breast_cancer_frame,
    load_diabetes_frame,
    read_table,
    snake_case,
)
from mergeml.data.validate import validate_table
from mergeml.errors import DataError

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def sample() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amount": [1.5, 2.25, np.nan],
            "visits": np.array([1, 2, 3], dtype=np.int64),
            "city": ["oslo", "rome", "lima"],
            "channel": pd.Categorical(["web", "web", "shop"], categories=["web", "shop", "phone"]),
        }
    )


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("mean concave points", "mean_concave_points"),
        ("Worst Fractal-Dimension", "worst_fractal_dimension"),
        ("  area (mm^2) ", "area_mm_2"),
        ("2nd reading", "_2nd_reading"),
    ],
)
def test_snake_case_makes_clean_identifiers(raw: str, clean: str) -> None:
    assert snake_case(raw) == clean


def test_snake_case_rejects_a_name_without_letters_or_digits() -> None:
    with pytest.raises(DataError, match="no letters or digits"):
        snake_case(" -- ")


def test_breast_cancer_has_snake_case_features_and_an_int_target() -> None:
    frame = load_breast_cancer_frame()
    assert frame.shape == (569, 31)
    assert frame.columns[-1] == "target"
    assert all(IDENTIFIER.match(name) for name in frame.columns)
    assert "mean_concave_points" in frame.columns
    assert frame["target"].dtype == np.int64
    assert frame["target"].value_counts().to_dict() == {1: 357, 0: 212}
    assert frame.index.equals(pd.RangeIndex(569))
    validate_table(frame, target="target", task="classification")


def test_diabetes_has_unscaled_features_and_a_float_target() -> None:
    frame = load_diabetes_frame()
    assert frame.shape == (442, 11)
    assert list(frame.columns) == [
        "age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "target",
    ]  # fmt: skip
    assert frame["target"].dtype == np.float64
    assert frame["age"].between(18, 80).all()
    validate_table(frame, target="target", task="regression")


def test_csv_round_trips_values(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    sample().to_csv(path, index=False)
    frame = read_table(path)
    assert list(frame.columns) == ["amount", "visits", "city", "channel"]
    assert frame["visits"].tolist() == [1, 2, 3]
    assert frame["amount"].isna().sum() == 1
    assert frame["channel"].tolist() == ["web", "web", "shop"]


def test_parquet_round_trips_dtypes_including_unused_categories(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    sample().to_parquet(path)
    frame = read_table(path)
    pd.testing.assert_frame_equal(frame, sample())
    assert list(frame["channel"].cat.categories) == ["web", "shop", "phone"]


def test_an_explicit_format_overrides_the_suffix(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    sample().to_csv(path, index=False)
    assert read_table(path, fmt="csv").shape == (3, 4)


def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match=f"data file not found: {re.escape(str(path))}"):
        read_table(path)


def test_a_directory_is_not_a_table(tmp_path: Path) -> None:
    path = tmp_path / "folder.parquet"
    path.mkdir()
    with pytest.raises(DataError, match="is not a file"):
        read_table(path)


def test_an_unknown_suffix_names_the_path_and_suffix(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"whatever")
    with pytest.raises(DataError, match=r"data\.xlsx from its suffix '\.xlsx'"):
        read_table(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("binary.csv", bytes(range(256)) * 4),
        ("empty.csv", b""),
        ("ragged.csv", b"a,b\n1,2\n3,4,5,6\n"),
        ("text.parquet", b"a,b\n1,2\n"),
        ("truncated.parquet", None),
    ],
)
def test_unreadable_content_is_a_data_error_naming_the_path(
    tmp_path: Path, name: str, content: bytes | None
) -> None:
    path = tmp_path / name
    if content is None:
        sample().to_parquet(path)
        content = path.read_bytes()[:-20]
    path.write_bytes(content)
    with pytest.raises(DataError, match=re.escape(name)) as info:
        read_table(path)
    assert "\n" not in str(info.value)
