"""What `check_frame` finds in a frame of model inputs, on tiny in-memory frames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mergeml.serve.schema_check import Problem, check_frame, missing_columns, summary

SCHEMA: dict[str, Any] = {
    "format": 1,
    "target": "y",
    "columns": [
        {"name": "amount", "dtype": "float", "nullable": False},
        {"name": "count", "dtype": "int", "nullable": False},
        {"name": "score", "dtype": "float", "nullable": True},
        {"name": "flag", "dtype": "bool", "nullable": False},
        {"name": "channel", "dtype": "category", "nullable": False, "categories": ["a", "b"]},
        {"name": "note", "dtype": "str", "nullable": True, "categories": None},
    ],
}


def _frame(**changes: Any) -> pd.DataFrame:
    data: dict[str, Any] = {
        "amount": [1.5, 2.0, 3.25, 4.0],
        "count": [1, 2, 3, 4],
        "score": [0.1, np.nan, 0.3, 0.4],
        "flag": [True, False, True, False],
        "channel": pd.Categorical(["a", "b", "a", "b"]),
        "note": ["x", None, "anything", "z"],
    }
    return pd.DataFrame(data | changes)


def test_a_frame_that_fits_the_schema_has_no_problem() -> None:
    assert check_frame(_frame(), SCHEMA) == []


def test_extra_columns_are_ignored_and_column_order_does_not_matter() -> None:
    frame = _frame(id=[10, 11, 12, 13])
    assert check_frame(frame[list(reversed(frame.columns))], SCHEMA) == []


def test_labels_as_plain_strings_and_integers_as_floats_are_accepted() -> None:
    frame = _frame(channel=["a", "b", "b", "a"], count=[1.0, 2.0, 3.0, 4.0])
    assert check_frame(frame, SCHEMA) == []


def test_a_missing_column_is_named_with_the_dtype_the_model_needs() -> None:
    problems = check_frame(_frame().drop(columns=["count"]), SCHEMA)
    detail = "missing (the model needs it, dtype int)"
    assert problems == [Problem("count", "missing", 0, None, detail)]
    assert missing_columns(["amount"], SCHEMA)[0].column == "count"


def test_a_wrong_dtype_names_the_column_and_both_dtypes() -> None:
    (problem,) = check_frame(_frame(amount=["1", "2", "3", "4"]), SCHEMA)
    assert (problem.column, problem.kind, problem.count) == ("amount", "dtype", 4)
    assert "the model needs float" in problem.detail


def test_numbers_for_a_category_and_strings_for_a_bool_are_wrong_dtypes() -> None:
    problems = check_frame(_frame(channel=[1, 2, 1, 2], flag=["y", "n", "y", "n"]), SCHEMA)
    assert [(p.column, p.kind) for p in problems] == [("flag", "dtype"), ("channel", "dtype")]


def test_non_integer_values_in_an_int_column_are_counted() -> None:
    (problem,) = check_frame(_frame(count=[1.0, 2.5, 3.0, 4.5]), SCHEMA)
    assert (problem.column, problem.kind, problem.count, problem.first_row) == (
        "count",
        "dtype",
        2,
        1,
    )


def test_missing_values_count_only_where_the_schema_says_not_nullable() -> None:
    (problem,) = check_frame(_frame(amount=[1.0, np.nan, 2.0, np.nan]), SCHEMA)
    assert (problem.column, problem.kind, problem.count, problem.first_row) == (
        "amount",
        "null",
        2,
        1,
    )
    assert check_frame(_frame(score=[np.nan] * 4), SCHEMA) == []  # nullable


def test_unknown_categories_are_counted_and_quoted() -> None:
    (problem,) = check_frame(_frame(channel=["a", "zz", "b", "zz"]), SCHEMA)
    assert (problem.column, problem.kind, problem.count, problem.first_row) == (
        "channel",
        "category",
        2,
        1,
    )
    assert "'zz'" in problem.detail
    categorical = _frame(channel=pd.Categorical(["a", "a", "c", "a"]))
    assert [p.count for p in check_frame(categorical, SCHEMA)] == [1]


def test_a_str_column_without_recorded_labels_takes_any_label() -> None:
    assert check_frame(_frame(note=["new", "labels", "are", "fine"]), SCHEMA) == []


def test_the_summary_is_one_line_with_the_row_offset_and_the_rest_counted() -> None:
    frame = _frame(amount=[1.0, 2.0, np.nan, 4.0], channel=["a", "b", "q", "a"])
    line = summary(check_frame(frame.drop(columns=["flag"]), SCHEMA), offset=101)
    assert line == ("column 'flag': missing (the model needs it, dtype bool); and 2 more problems")
    line = summary(check_frame(frame, SCHEMA), offset=101)
    assert line.startswith("column 'amount': 1 missing value (")
    assert line.endswith("(first at row 103); and 1 more problem")
    assert "\n" not in line
