"""Reading output md5s from dvc.lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from mergeml.config.lockfile import normalise_out_path, output_md5
from mergeml.errors import MergemlError

LOCK = """\
schema: '2.0'
stages:
  prepare:
    cmd: python pipelines/prepare.py
    deps:
    - path: data/raw.csv
      hash: md5
      md5: 11111111111111111111111111111111
      size: 10
    outs:
    - path: data/prepared
      hash: md5
      md5: 22222222222222222222222222222222.dir
      size: 20
      nfiles: 2
  train:
    cmd: python pipelines/train.py
    outs:
    - path: ./models/model.skops
      hash: md5
      md5: 33333333333333333333333333333333
      size: 30
    - path: metrics/train.json
      hash: md5
      md5: 44444444444444444444444444444444
      size: 40
"""


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    path = tmp_path / "dvc.lock"
    path.write_text(LOCK, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "out_path", ["models/model.skops", "./models/model.skops", "models\\model.skops"]
)
def test_output_md5_is_found_whatever_the_path_spelling(lock_path: Path, out_path: str) -> None:
    assert output_md5(lock_path, out_path) == "33333333333333333333333333333333"


def test_output_md5_of_a_directory_output_keeps_the_dir_suffix(lock_path: Path) -> None:
    assert output_md5(lock_path, "data/prepared/") == "22222222222222222222222222222222.dir"


@pytest.mark.parametrize("out_path", ["models/other.skops", "data/raw.csv"])
def test_output_md5_is_none_for_a_path_that_is_not_an_output(
    lock_path: Path, out_path: str
) -> None:
    assert output_md5(lock_path, out_path) is None


def test_missing_lock_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "dvc.lock"
    with pytest.raises(MergemlError, match="lock file not found") as info:
        output_md5(path, "models/model.skops")
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["stages: [unclosed\n  - : :", "just a string", "schema: '2.0'\n", "stages: [1, 2]\n"],
    ids=["invalid-yaml", "scalar", "no-stages", "stages-not-a-mapping"],
)
def test_unparsable_lock_file_is_a_one_line_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "dvc.lock"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MergemlError) as info:
        output_md5(path, "models/model.skops")
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("./a/b", "a/b"), ("a\\b", "a/b"), ("a/./b/", "a/b"), ("a/../b", "b")],
)
def test_normalise_out_path(raw: str, normal: str) -> None:
    assert normalise_out_path(raw) == normal
