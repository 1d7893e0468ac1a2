"""`mergeml predict` with the real pipeline model: a tiny project after a real `dvc repro`,
its model and input schema written into a `mergeml pull` directory."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from mergeml.model.io import load_model
from mergeml.model.schema import parse_schema
from mergeml.serve.batches import rebatch
from mergeml.serve.fetch import write_pulled
from mergeml.serve.predict import load_pulled, predict_file
from mergeml.serve.resolve import Target
from tests.helpers import mergeml
from tests.serve.conftest import Promoted, clone_promoted

pytestmark = pytest.mark.pipeline

TEST_SPLIT = "data/prepared/test.parquet"


@pytest.fixture(scope="module")
def model_dir(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built project's model and input schema as `mergeml pull` writes them."""
    data = (built_project / "models/model.skops").read_bytes()
    schema = parse_schema((built_project / "models/input_schema.json").read_text())
    target = Target(
        name="tabular-model",
        version="v0.1.0",
        stage="staging",
        commit="c" * 40,
        model_path="models/model.skops",
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        schema=schema,
    )
    out = tmp_path_factory.mktemp("pulled") / "staging"
    write_pulled(out, target, data)
    return out


@pytest.fixture(scope="module")
def rows(built_project: Path) -> pd.DataFrame:
    """The project's test split: features, the target, in the model's column dtypes."""
    return pd.read_parquet(built_project / TEST_SPLIT)


def _features(model_dir: Path) -> list[str]:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    return [c["name"] for c in manifest["input_schema"]["columns"]]


def _expected(model_dir: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """What the model in-process says about ``frame``."""
    model = load_model(model_dir / "model.skops")
    features = frame[_features(model_dir)]
    proba = model.predict_proba(features)
    out = pd.DataFrame({"prediction": model.predict(features)})
    for i, label in enumerate(model.classes_):
        out[f"proba_{label}"] = proba[:, i]
    return out


def _read(path: Path) -> pd.DataFrame:
    """An output file; CSV through Arrow's parser (correctly rounded doubles)."""
    if path.suffix == ".csv":
        return pacsv.read_csv(path).to_pandas()
    return pq.read_table(path).to_pandas()


def _one_error_line(proc: object, *needles: str) -> str:
    assert proc.returncode != 0  # type: ignore[attr-defined]
    lines = proc.stderr.splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, proc.stderr  # type: ignore[attr-defined]
    assert lines[0].startswith("mergeml: error: ")
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_parquet_in_csv_out_equals_the_model_in_process(
    model_dir: Path, rows: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    rows.assign(id=range(len(rows))).to_parquet(source, index=False)

    proc = mergeml(tmp_path, "predict", "--model", str(model_dir), str(source), "out.csv")

    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar off a terminal
    assert f"scored {len(rows):,} rows with tabular-model v0.1.0" in proc.stdout
    got = _read(tmp_path / "out.csv")
    assert list(got.columns) == ["prediction", "proba_0", "proba_1"]  # no id guessed
    pd.testing.assert_frame_equal(got, _expected(model_dir, rows), check_exact=True)


def test_csv_in_parquet_out_carries_the_model_version_as_metadata(
    model_dir: Path, rows: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    rows.to_csv(source, index=False)

    proc = mergeml(tmp_path, "predict", "--model", str(model_dir), str(source), "out.parquet")

    assert proc.returncode == 0, proc.stderr
    got = pq.read_table(tmp_path / "out.parquet")
    meta = {k.decode(): v.decode() for k, v in (got.schema.metadata or {}).items()}
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert meta == {
        "mergeml.name": "tabular-model",
        "mergeml.version": "v0.1.0",
        "mergeml.stage": "staging",
        "mergeml.commit": "c" * 40,
        "mergeml.md5": manifest["md5"],
    }
    expected = _expected(model_dir, pacsv.read_csv(source).to_pandas())
    pd.testing.assert_frame_equal(got.to_pandas(), expected, check_exact=True)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_many_small_batches_give_the_same_output_as_one(
    model_dir: Path, rows: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    source = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        rows.to_csv(source, index=False)
    else:
        rows.to_parquet(source, index=False)
    pulled = load_pulled(model_dir)

    whole = predict_file(pulled, source, tmp_path / "whole.parquet", batch_rows=len(rows))
    small = predict_file(pulled, source, tmp_path / "small.parquet", batch_rows=7)

    assert (whole.batches, small.batches) == (1, math.ceil(len(rows) / 7))
    assert whole.rows == small.rows == len(rows)
    small_table, whole_table = (
        pq.read_table(tmp_path / n) for n in ("small.parquet", "whole.parquet")
    )
    assert small_table.equals(whole_table)


def test_the_reader_is_asked_for_batches_of_the_chosen_size() -> None:
    batches = [pa.record_batch({"x": list(range(n))}) for n in (5, 1, 9, 2)]

    sizes = [b.num_rows for b in rebatch(iter(batches), 4)]

    assert sizes == [4, 4, 4, 4, 1]


def _write_bad(rows: pd.DataFrame, path: Path, case: str) -> None:
    frame = rows.head(30).copy()
    if case == "missing column":
        frame = frame.drop(columns=["amount"])
    elif case == "not nullable":
        frame.loc[frame.index[[12, 15]], "amount"] = np.nan
    elif case == "unknown category":
        frame["channel"] = frame["channel"].astype(str)
        frame.loc[frame.index[13], "channel"] = "carrier_pigeon"
    elif case == "wrong dtype":
        frame["amount"] = frame["amount"].astype(str)
        frame.loc[frame.index[14], "amount"] = "lots"
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


BAD = [
    ("missing column", ".parquet", ["column 'amount': missing"]),
    ("missing column", ".csv", ["column 'amount': missing"]),
    ("not nullable", ".parquet", ["batch 2 (rows 11-20)", "column 'amount': 2 missing", "row 13"]),
    ("not nullable", ".csv", ["batch 2 (rows 11-20)", "column 'amount': 2 missing", "row 13"]),
    ("unknown category", ".csv", ["batch 2", "column 'channel': 1 value not", "carrier_pigeon"]),
    ("unknown category", ".parquet", ["column 'channel': 1 value not", "row 14"]),
    ("wrong dtype", ".parquet", ["column 'amount': dtype", "the model needs float"]),
    ("wrong dtype", ".csv", ["column 'amount': ", "conversion error to double", "'lots'"]),
]


@pytest.mark.parametrize(("case", "suffix", "needles"), BAD, ids=[f"{c}{s}" for c, s, _ in BAD])
def test_bad_input_is_one_line_naming_the_column_and_leaves_no_output(
    model_dir: Path, rows: pd.DataFrame, tmp_path: Path, case: str, suffix: str, needles: list[str]
) -> None:
    source = tmp_path / "in" / f"data{suffix}"
    source.parent.mkdir()
    _write_bad(rows, source, case)
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.parquet").write_bytes(b"an earlier output")
    args = ["predict", "--model", str(model_dir), "--batch-rows", "10", str(source)]

    for name in ("new.parquet", "kept.parquet"):
        proc = mergeml(tmp_path, *args, str(out / name))
        _one_error_line(proc, str(source), *needles)

    assert sorted(p.name for p in out.iterdir()) == ["kept.parquet"]  # no temporary left
    assert (out / "kept.parquet").read_bytes() == b"an earlier output"


def test_usage_errors_are_one_line(model_dir: Path, rows: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    rows.to_parquet(source, index=False)
    model = ["--model", str(model_dir)]

    _one_error_line(mergeml(tmp_path, "predict", str(source), "o.parquet"), "--stage", "--model")
    _one_error_line(mergeml(tmp_path, "predict", *model, str(source), "o.json"), "'.json'")
    _one_error_line(mergeml(tmp_path, "predict", *model, str(source), str(source)), "is the INPUT")
    _one_error_line(mergeml(tmp_path, "predict", "--model", str(tmp_path), str(source), "o.csv"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_a_tampered_model_is_refused_before_scoring(
    model_dir: Path, rows: pd.DataFrame, tmp_path: Path
) -> None:
    copy = tmp_path / "model"
    copy.mkdir()
    (copy / "manifest.json").write_bytes((model_dir / "manifest.json").read_bytes())
    (copy / "model.skops").write_bytes((model_dir / "model.skops").read_bytes() + b"\0")
    source = tmp_path / "in.parquet"
    rows.to_parquet(source, index=False)

    proc = mergeml(tmp_path, "predict", "--model", str(copy), str(source), "out.parquet")

    _one_error_line(proc, "does not match its manifest", "pull it again")
    assert not (tmp_path / "out.parquet").exists()


def test_a_progress_bar_is_drawn_on_a_terminal(
    model_dir: Path, rows: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    rows.to_parquet(source, index=False)
    leader, follower = os.openpty()
    try:
        args = ["predict", "--model", str(model_dir), str(source), "out.parquet"]
        proc = subprocess.run(
            [sys.executable, "-m", "mergeml", *args],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=follower,
            check=False,
        )
        os.close(follower)
        shown = os.read(leader, 65536).decode()
    finally:
        os.close(leader)

    assert proc.returncode == 0
    assert f"{len(rows):,}/{len(rows):,} rows" in shown
    assert "#" * 30 in shown  # the full bar
    assert shown.endswith("\n")  # then the line ends


def test_a_stage_is_pulled_once_then_reused_while_it_holds_the_same_model(
    promoted: Promoted,
    rows: pd.DataFrame,
    tmp_path: Path,
) -> None:
    clone = clone_promoted(promoted.origin, promoted.storage, tmp_path / "clone")
    source = tmp_path / "in.parquet"
    rows.to_parquet(source, index=False)
    args = ["predict", "--stage", "staging", str(source)]

    first = mergeml(clone, *args, "one.parquet")
    pulled = clone / "models/staging/model.skops"
    stamp = pulled.stat().st_mtime_ns
    second = mergeml(clone, *args, "two.parquet")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert pulled.stat().st_mtime_ns == stamp  # not pulled again
    assert "tabular-model v0.1.0" in second.stdout
    one, two = (pq.read_table(clone / n) for n in ("one.parquet", "two.parquet"))
    assert one.equals(two)
    assert one.schema.metadata[b"mergeml.stage"] == b"staging"
    expected = _expected(clone / "models/staging", rows)
    pd.testing.assert_frame_equal(one.to_pandas(), expected, check_exact=True)
