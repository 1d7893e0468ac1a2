from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mergeml.config.schema import FileData, PrepareParams, SplitConfig
from mergeml.data.prepare import prepare
from mergeml.data.sources import (
    dvc_file,
    file_record,
    load_breast_cancer_frame,
    load_diabetes_frame,
    read_table,
    require_tracked,
    snake_case,
    source_path,
)
from mergeml.data.validate import validate_table
from mergeml.errors import DataError
from mergeml.scm import Git, tracked_by_git
from tests.helpers import git

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


# --- user data files: inside the repository, tracked, recorded by md5 ------------------------

RAW = "data/raw/input.csv"


def raw_file(root: Path, rel: str = RAW, content: bytes = b"x,y\n1,0\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def never(_: Path) -> bool:
    return False


def test_a_symlink_leading_outside_the_repository_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    outside = raw_file(tmp_path, "elsewhere.csv")
    (root / "data/raw").mkdir(parents=True)
    (root / RAW).symlink_to(outside)
    with pytest.raises(DataError, match=r"data\.path data/raw/input\.csv resolves outside") as info:
        source_path(root, RAW)
    assert "\n" not in str(info.value)
    inside = raw_file(root, "data/raw/real.csv")
    (root / "data/raw/alias.csv").symlink_to(inside)
    assert source_path(root, "data/raw/alias.csv") == root / "data/raw/alias.csv"


def test_the_dvc_file_beside_the_file_or_a_parent_directory_is_found(tmp_path: Path) -> None:
    assert dvc_file(tmp_path, RAW) is None
    (tmp_path / "data").mkdir()
    (tmp_path / "data/raw.dvc").write_text("outs: []\n")
    assert dvc_file(tmp_path, RAW) == tmp_path / "data/raw.dvc"
    raw_file(tmp_path, RAW + ".dvc")
    assert dvc_file(tmp_path, "./" + RAW) == tmp_path / (RAW + ".dvc")


def test_a_missing_file_is_not_found_and_a_dvc_tracked_one_says_pull(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"^data file not found: data/raw/input\.csv$"):
        require_tracked(tmp_path, RAW, never)
    raw_file(tmp_path, RAW + ".dvc")
    with pytest.raises(DataError, match=r"run `dvc pull data/raw/input\.csv\.dvc`"):
        require_tracked(tmp_path, RAW, never)


def test_a_file_tracked_by_neither_git_nor_dvc_is_refused_with_the_command(
    tmp_path: Path,
) -> None:
    raw_file(tmp_path)
    with pytest.raises(DataError) as info:
        require_tracked(tmp_path, RAW, never)
    assert str(info.value) == (
        "data file data/raw/input.csv is not tracked by git or DVC: run "
        "`dvc add data/raw/input.csv` (or `git add` it) so that a clean clone and "
        "`mergeml exp run` can see it"
    )
    require_tracked(tmp_path, RAW, lambda path: path == tmp_path / RAW)  # git tracks it
    raw_file(tmp_path, RAW + ".dvc")
    require_tracked(tmp_path, RAW, never)  # DVC tracks it


def test_git_tracks_staged_and_committed_files_only(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    committed, staged = raw_file(root, "data/raw/a.csv"), raw_file(root, "data/raw/b c.csv")
    untracked, star = raw_file(root, "data/raw/c.csv"), raw_file(root, "data/raw/*.csv")
    outside = raw_file(tmp_path, "outside.csv")
    assert tracked_by_git(committed) is False  # not a git repository yet
    git(root, "init", "-q")
    git(root, "add", "data/raw/a.csv")
    git(root, "commit", "-q", "-m", "a")
    link = root / "data/raw/link.csv"
    link.symlink_to("c.csv")
    git(root, "add", "data/raw/b c.csv", "data/raw/link.csv")
    repo = Git(root)
    assert repo.is_tracked(link)  # the link itself, though its target is untracked
    assert repo.is_tracked(committed)
    assert repo.is_tracked(staged)
    assert not repo.is_tracked(untracked)
    assert not repo.is_tracked(star)  # a literal name, not a pattern matching a.csv
    assert not repo.is_tracked(outside)
    assert not repo.is_tracked(root / "data/raw")  # a directory is not a tracked file
    assert tracked_by_git(staged) is True
    assert tracked_by_git(untracked) is False


def test_the_file_record_is_the_md5_of_every_byte(tmp_path: Path) -> None:
    content = bytes(range(256)) * 12_000  # ~3 MB: several read chunks
    raw_file(tmp_path, RAW, content)
    assert file_record(tmp_path, "./" + RAW) == {
        "path": RAW,
        "md5": hashlib.md5(content).hexdigest(),
        "size": len(content),
    }


def test_prepare_records_the_source_file_in_the_summary(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": np.arange(40.0), "label": [0, 1] * 20})
    raw_file(tmp_path, RAW, frame.to_csv(index=False).encode())
    data = FileData(source="file", path=RAW, target="label", task="classification", format="auto")
    params = PrepareParams(seed=1, data=data, split=SplitConfig(test_size=0.25, stratify=True))
    summary = prepare(params, tmp_path).summary
    assert summary["source"] == "file"
    assert summary["source_file"] == file_record(tmp_path, RAW)


def test_preflight_checks_the_keys_the_prepare_stage_declares(tmp_path: Path) -> None:
    from mergeml.data.preflight import preflight
    from mergeml.errors import ConfigError
    from tests.projects import ROOT

    frame = pd.DataFrame({"x": np.arange(40.0), "label": [0, 1] * 20})
    raw_file(tmp_path, RAW, frame.to_csv(index=False).encode())
    columns = {"x": {"dtype": "float"}, "label": {"dtype": "int", "min": 0, "max": 0}}
    data = {"source": "file", "path": RAW, "target": "label", "task": "classification"}
    params = {
        "seed": 1,
        "data": {**data, "format": "auto", "columns": columns},
        "split": {"test_size": 0.25, "stratify": True},
        "model": "not read by prepare",
    }
    dvc_yaml = (ROOT / "dvc.yaml").read_text()
    (tmp_path / "dvc.yaml").write_text(dvc_yaml)
    with pytest.raises(DataError, match=r"column 'label': 20 values above the maximum 0"):
        preflight([params], tmp_path, is_tracked=lambda path: True)
    columns["label"]["max"] = 1
    preflight([params], tmp_path, is_tracked=lambda path: True)
    # The view is dvc.yaml's: a stage that does not declare `split` cannot read it.
    (tmp_path / "dvc.yaml").write_text(dvc_yaml.replace("      - split\n", "", 1))
    with pytest.raises(ConfigError, match=r"^params: missing key 'split'"):
        preflight([params], tmp_path, is_tracked=lambda path: True)
