"""Content comparisons and lock comparison behind `mergeml verify-built`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mergeml.config.schema import VerifyTolerance
from mergeml.errors import MergemlError
from mergeml.review.verify import compare_locks, missing_verdict, read_verdict
from mergeml.review.verify_content import close, compare_csv, compare_json, compare_tables

TOL = VerifyTolerance(absolute=1e-6, relative=1e-6)
EXACT = VerifyTolerance(absolute=0.0, relative=0.0)


@pytest.mark.parametrize(
    ("a", "b", "ok"),
    [
        (0.5, 0.5 + 1e-12, True),
        (0.5, 0.5 + 1e-5, False),
        (1e9, 1e9 + 100.0, True),  # relative part
        (math.nan, math.nan, True),
        (math.nan, 0.0, False),
        (math.inf, math.inf, True),
        (math.inf, 1e308, False),
        (-math.inf, math.inf, False),
    ],
)
def test_close_allows_absolute_plus_relative_and_matches_nan_and_inf_only_to_themselves(
    a: float, b: float, ok: bool
) -> None:
    assert close(a, b, TOL) is ok
    assert close(b, a, TOL) is ok


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_a_number_is_always_close_to_itself_even_with_zero_tolerance(x: float) -> None:
    assert close(x, x, EXACT)


def test_json_numbers_within_tolerance_are_equivalent_and_the_largest_gap_is_reported() -> None:
    old = {"roc_auc": 0.912345, "curve": [{"x": 0.1, "y": 0.2}], "n": 10}
    new = {"roc_auc": 0.912346, "curve": [{"x": 0.1, "y": 0.2 + 1e-15}], "n": 10}
    diff = compare_json(json.dumps(old), json.dumps(new), TOL)
    assert diff.problem is None
    assert diff.n_beyond == 0
    assert diff.count == 4
    assert diff.largest == pytest.approx(1e-6)
    assert diff.summary() == "max |Δ| 1e-06 over 4 numbers"


def test_json_gaps_beyond_tolerance_name_the_key_and_the_size() -> None:
    diff = compare_json('{"a": {"b": [1, 2.0]}}', '{"a": {"b": [1, 2.5]}}', TOL)
    assert diff.n_beyond == 1
    assert diff.describe_beyond() == (
        "a.b[1] differs by 0.5 (committed 2, rebuilt 2.5) beyond tolerance"
    )


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('{"a": 1}', '{"b": 1}', "keys differ"),
        ("[1, 2]", "[1]", "2 items committed, 1 rebuilt"),
        ('{"s": "x"}', '{"s": "y"}', "s: 'x' committed, 'y' rebuilt"),
        ('{"t": true}', '{"t": 1}', "t: True committed, 1 rebuilt"),
        ('{"a": 1', '{"a": 1}', "not valid JSON"),
    ],
)
def test_json_structure_must_match_exactly(old: str, new: str, problem: str) -> None:
    diff = compare_json(old, new, TOL)
    assert diff.problem is not None
    assert problem in diff.problem


def test_csv_cells_compare_as_numbers_where_both_parse_and_as_text_otherwise() -> None:
    assert compare_csv("a,b\n1,x\n", "a,b\n1.0000000001,x\n", TOL).n_beyond == 0
    beyond = compare_csv("actual,predicted\n0,0\n1,1\n", "actual,predicted\n0,0\n1,0\n", TOL)
    assert beyond.n_beyond == 1
    assert "row 3 column 2 differs by 1" in beyond.describe_beyond()
    assert (
        compare_csv("a\nx\n", "a\ny\n", TOL).problem == "row 2 column 1: 'x' committed, 'y' rebuilt"
    )
    assert compare_csv("a\n1\n", "a\n1\n2\n", TOL).problem == "2 rows committed, 3 rebuilt"


def _parquet(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_parquet(path, index=False)
    return path


def test_tables_compare_by_value(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [0.1, 0.2, math.nan], "c": pd.Categorical(["a", "b", "a"])})
    committed = _parquet(frame, tmp_path / "old.parquet").read_bytes()
    near = _parquet(frame.assign(x=[0.1, 0.2 + 1e-16, math.nan]), tmp_path / "near.parquet")
    diff = compare_tables(committed, near, TOL)
    assert diff.problem is None
    assert diff.n_beyond == 0
    assert diff.count == 3

    far = _parquet(frame.assign(x=[0.1, 0.3, math.nan]), tmp_path / "far.parquet")
    assert "column 'x'[1] differs by 0.1" in compare_tables(committed, far, TOL).describe_beyond()

    nan = _parquet(frame.assign(x=[0.1, 0.2, 0.0]), tmp_path / "nan.parquet")
    assert compare_tables(committed, nan, TOL).n_beyond == 1

    relabelled = frame.assign(c=pd.Categorical(["a", "b", "b"]))
    other = _parquet(relabelled, tmp_path / "cat.parquet")
    assert compare_tables(committed, other, TOL).problem == "column 'c': 1 values differ"

    fewer = _parquet(frame.head(2), tmp_path / "fewer.parquet")
    assert compare_tables(committed, fewer, TOL).problem == "3 rows committed, 2 rebuilt"


def _stage(deps: dict[str, str], outs: dict[str, str], cmd: str = "python x.py") -> dict:
    return {
        "cmd": cmd,
        "deps": [{"path": p, "md5": m} for p, m in deps.items()],
        "outs": [{"path": p, "md5": m} for p, m in outs.items()],
    }


def test_lock_sources_must_match_and_intermediate_outputs_are_left_to_content_checks() -> None:
    committed = {
        "prepare": _stage({"data/raw": "r1", "src": "s1"}, {"data/prepared": "p1.dir"}),
        "train": _stage({"data/prepared/train.parquet": "t1", "src": "s1"}, {"model": "m1"}),
    }
    rebuilt = {
        "prepare": _stage({"data/raw": "r1", "src": "s1"}, {"data/prepared": "p2.dir"}),
        "train": _stage({"data/prepared/train.parquet": "t2", "src": "s1"}, {"model": "m2"}),
    }
    findings, outs = compare_locks(committed, rebuilt)
    assert findings == []
    assert outs == {"data/prepared": ("p1.dir", "p2.dir"), "model": ("m1", "m2")}

    rebuilt["prepare"] = _stage({"data/raw": "r2", "src": "s1"}, {"data/prepared": "p2.dir"})
    findings, _ = compare_locks(committed, rebuilt)
    (finding,) = findings
    assert finding.status == "differs"
    assert "stage 'prepare': source data/raw is md5 r2 here but md5 r1" in finding.detail


def test_lock_commands_params_and_stages_must_match() -> None:
    committed = {"a": {**_stage({}, {}), "params": {"params.yaml": {"model.C": 1.0}}}}
    rebuilt = {
        "a": {**_stage({}, {}, cmd="python y.py"), "params": {"params.yaml": {"model.C": 2}}},
        "b": _stage({}, {}),
    }
    details = [f.detail for f in compare_locks(committed, rebuilt)[0]]
    assert "dvc.lock: stage 'a': its command changed" in details
    assert "dvc.lock: stage 'a': params differ: params.yaml.model.C" in details
    assert "dvc.lock: stage 'b' is only in the rebuilt lock" in details


def test_a_verdict_file_is_checked_before_it_reaches_the_report() -> None:
    good = {
        "outcome": "equivalent",
        "findings": [{"path": "m", "status": "equivalent", "detail": "d", "extra": "dropped"}],
        "promoted": {"m": "abc"},
    }
    parsed = read_verdict(json.dumps(good), "v.json")
    assert parsed["headline"] == "equivalent within tolerance (rebuilt on different hardware)"
    assert parsed["findings"] == [{"path": "m", "status": "equivalent", "detail": "d"}]
    for bad in ("nope", '{"outcome": "great", "findings": []}', '{"outcome": "identical"}'):
        with pytest.raises(MergemlError, match=r"v\.json"):
            read_verdict(bad, "v.json")
    assert missing_verdict("v.json")["outcome"] == "unknown"


def test_the_profiles_model_md5_follows_the_model_and_other_strings_must_match() -> None:
    """The reference profile names the model's md5; the model is judged by its predictions
    in its own finding, so only that key may differ."""
    committed = json.dumps({"model_md5": "aa", "rows": 10, "target": "is_fraud"})
    rebuilt = json.dumps({"model_md5": "bb", "rows": 10, "target": "is_fraud"})
    assert compare_json(committed, rebuilt, TOL).problem is None
    other = json.dumps({"model_md5": "bb", "rows": 10, "target": "churn"})
    assert compare_json(committed, other, TOL).problem is not None
