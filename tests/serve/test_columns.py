"""A request's rows as columns (`mergeml.serve.columns`): what the server checks, batches
and logs before any DataFrame is built, and the one DataFrame the model then gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mergeml.errors import RequestError
from mergeml.serve import columns
from mergeml.serve.predlog import PredictionLog
from mergeml.serve.schema_check import check_columns, check_frame
from mergeml.serve.service import load_service
from tests.serve.models import pulled_model, rows
from tests.serve.test_predlog import MODEL, NOON, inputs, outputs
from tests.serve.test_schema_check import SCHEMA, _frame

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _text(*values: Any) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def test_a_frame_is_taken_apart_without_copies_and_put_back_with_its_dtypes() -> None:
    frame = _frame()
    got = columns.of_frame(frame)

    assert list(got) == list(frame.columns)
    assert isinstance(got["amount"], np.ndarray)
    assert np.shares_memory(got["amount"], frame["amount"].to_numpy())
    assert isinstance(got["channel"], pd.Categorical)
    assert columns.length(got) == 4
    pd.testing.assert_frame_equal(columns.frame(got), frame, check_column_type=False)


def test_text_stays_object_in_the_frame_the_model_gets() -> None:
    built = columns.frame({"city": _text("oslo", None), "age": np.array([3, 4])})

    assert built["city"].dtype == object  # not pandas' str dtype: what training gave
    assert built.columns.dtype == object  # one cached Index per set of names
    assert columns.frame({"city": _text("lima"), "age": np.array([5])}).columns is built.columns
    assert built["city"].tolist() == ["oslo", None]
    assert list(built.columns) == ["city", "age"]


def test_a_column_name_given_twice_is_refused_by_name() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["age", "age"])
    with pytest.raises(ValueError, match="'age' is given twice"):
        columns.of_frame(frame)


def test_concat_joins_numpy_and_pandas_arrays_in_order() -> None:
    first = columns.of_frame(_frame())
    second = columns.of_frame(_frame(amount=[9.0, 8.0, 7.0, 6.0]))

    joined = columns.concat([first, second])

    assert columns.length(joined) == 8
    assert joined["amount"].tolist() == [1.5, 2.0, 3.25, 4.0, 9.0, 8.0, 7.0, 6.0]
    assert list(joined["channel"]) == ["a", "b", "a", "b"] * 2
    assert columns.pick(joined, ["flag", "amount"]).keys() == {"flag", "amount"}
    assert list(columns.pick(joined, ["flag", "amount"])) == ["flag", "amount"]


BAD_FRAMES = {
    "fits": {},
    "wrong dtype": {"amount": ["1", "2", "3", "4"]},
    "number for a category": {"channel": [1, 2, 1, 2], "flag": ["y", "n", "y", "n"]},
    "fractions in int": {"count": [1.0, 2.5, 3.0, 4.5]},
    "nulls": {"amount": [1.0, np.nan, 2.0, np.nan]},
    "unknown labels": {"channel": ["a", "zz", "b", "zz"]},
    "unknown categorical": {"channel": pd.Categorical(["a", "a", "c", "a"])},
    "nullable bool": {"flag": pd.array([True, None, False, True], dtype="boolean")},
    "pandas strings": {"note": pd.array(["x", None, "y", "z"], dtype="str")},
}


@pytest.mark.parametrize("changes", BAD_FRAMES.values(), ids=list(BAD_FRAMES))
def test_checking_the_columns_finds_what_checking_the_frame_finds(
    changes: dict[str, Any],
) -> None:
    frame = _frame(**changes)
    assert check_columns(columns.of_frame(frame), SCHEMA) == check_frame(frame, SCHEMA)


def test_many_rows_take_the_vectorised_path_and_find_the_same() -> None:
    frame = pd.concat([_frame(channel=["a", "zz", "b", "q"])] * 100, ignore_index=True)
    (problem,) = check_columns(columns.of_frame(frame), SCHEMA)
    assert (problem.count, problem.first_row) == (200, 1)
    assert "'zz', 'q'" in problem.detail


def test_the_service_scores_columns_and_frames_alike(tmp_path: Path) -> None:
    service = load_service(pulled_model(tmp_path / "staging"))
    frame = rows(5, seed=4)

    from_frame = service.score_now(frame)
    from_columns = service.score_now(columns.of_frame(frame))

    for a, b in zip(from_frame.arrays, from_columns.arrays, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(RequestError, match="given twice") as refused:
        service.score_now(pd.DataFrame([[1, 2]], columns=["age", "age"]))
    assert refused.value.status == 400


def test_the_log_writes_columns_as_it_writes_frames(tmp_path: Path) -> None:
    for kind, convert in (("frames", lambda f: f), ("columns", columns.of_frame)):
        log = PredictionLog(str(tmp_path / kind), flush_seconds=60)
        for i in range(3):
            log.record(f"r{i}", NOON, MODEL, convert(inputs(2 + i)), convert(outputs(2 + i)))
        log.close()
    (by_frames,) = (tmp_path / "frames").rglob("*.parquet")
    (by_columns,) = (tmp_path / "columns").rglob("*.parquet")
    assert pq.read_table(by_columns).equals(pq.read_table(by_frames))
