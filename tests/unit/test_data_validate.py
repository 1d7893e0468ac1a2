from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mergeml.data.spec import ColumnSpec, TableSpec, columns_from_mapping
from mergeml.data.validate import validate_table
from mergeml.errors import DataError

SPEC = TableSpec(
    columns=(
        ColumnSpec("amount", "float", min=0.0, max=1_000.0),
        ColumnSpec("score", "float", nullable=True),
        ColumnSpec("visits", "int", min=0),
        ColumnSpec("channel", "category", categories=("web", "shop")),
        ColumnSpec("city", "str", categories=("oslo", "rome", "lima")),
        ColumnSpec("member", "bool"),
        ColumnSpec("label", "int", categories=None),
    )
)


def good_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amount": [10.0, 20.5, 0.0, 999.0, 3.0, 7.0],
            "score": [0.1, np.nan, 0.3, 0.4, np.nan, 0.6],
            "visits": np.array([1, 0, 4, 2, 2, 9], dtype=np.int64),
            "channel": pd.Categorical(
                ["web", "shop", "web", "web", "shop", "web"], ["web", "shop"]
            ),
            "city": ["oslo", "rome", "lima", "oslo", "rome", "lima"],
            "member": [True, False, True, True, False, False],
            "label": np.array([0, 1, 0, 1, 0, 1], dtype=np.int64),
        }
    )


def check(df: pd.DataFrame, **kwargs: object) -> None:
    args: dict = {"target": "label", "task": "classification", "spec": SPEC, **kwargs}
    validate_table(df, **args)


def failure(df: pd.DataFrame, **kwargs: object) -> str:
    with pytest.raises(DataError) as info:
        check(df, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- the spec itself -------------------------------------------------------------------------


def test_columns_from_mapping_builds_frozen_specs() -> None:
    columns = columns_from_mapping(
        {
            "amount": {"dtype": "float", "min": 0, "max": 10.5},
            "channel": {"dtype": "category", "categories": ["web", "shop"], "nullable": True},
        }
    )
    assert columns == (
        ColumnSpec("amount", "float", min=0, max=10.5),
        ColumnSpec("channel", "category", nullable=True, categories=("web", "shop")),
    )
    with pytest.raises(AttributeError):
        columns[0].min = 3.0  # type: ignore[misc]


def test_columns_from_mapping_names_the_column_and_the_unknown_key() -> None:
    with pytest.raises(DataError, match=r"column 'amount': unknown key 'minimum'"):
        columns_from_mapping({"amount": {"dtype": "float", "minimum": 0}})


@pytest.mark.parametrize(
    ("settings", "pattern"),
    [
        ({"nullable": True}, "missing required key 'dtype'"),
        ({"dtype": "decimal"}, "unknown dtype 'decimal'"),
        ({"dtype": "float", "min": "zero"}, "'min' must be a number"),
        ({"dtype": "float", "min": 5, "max": 1}, "min 5 is greater than max 1"),
        ({"dtype": "str", "min": 1}, "'min' is only allowed for float or int"),
        ({"dtype": "float", "categories": ["a"]}, "'categories' is only allowed for category"),
        ({"dtype": "category", "categories": "web"}, "must be a list of strings"),
        ({"dtype": "category", "categories": ["a", "a"]}, "duplicates"),
        ({"dtype": "category", "categories": ["a", 1]}, "not strings"),
        ({"dtype": "int", "nullable": "yes"}, "'nullable' must be true or false"),
        ("float", "expected a mapping of settings"),
    ],
)
def test_invalid_column_settings_name_the_column(settings: object, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern) as info:
        columns_from_mapping({"col_x": settings})
    assert "column 'col_x'" in str(info.value)


def test_a_table_spec_rejects_a_column_declared_twice() -> None:
    with pytest.raises(DataError, match="more than once: a"):
        TableSpec(columns=(ColumnSpec("a", "float"), ColumnSpec("a", "int")))


# --- frames that pass --------------------------------------------------------------------------


def test_a_frame_matching_the_spec_passes() -> None:
    check(good_frame())


def test_nulls_are_allowed_in_a_nullable_column() -> None:
    frame = good_frame()
    assert frame["score"].isna().sum() == 2
    check(frame)


def test_str_columns_may_be_object_dtype_holding_strings() -> None:
    frame = good_frame()
    frame["city"] = frame["city"].astype(object)
    check(frame)


def test_a_frame_without_spec_passes_with_nan_features() -> None:
    frame = good_frame()
    check(frame, spec=None)


def test_extra_columns_are_allowed_when_the_spec_is_not_strict() -> None:
    frame = good_frame().assign(extra=1.0)
    check(frame, spec=TableSpec(columns=SPEC.columns, strict=False))


# --- E3: the table contract ----------------------------------------------------------------


def test_an_empty_frame_is_rejected() -> None:
    message = failure(good_frame().iloc[0:0])
    assert "data has no rows" in message


def test_nan_in_a_non_nullable_column_names_the_column_and_count() -> None:
    frame = good_frame()
    frame.loc[[1, 3], "amount"] = np.nan
    assert "column 'amount': 2 null values in a non-nullable column" in failure(frame)


def test_inf_is_rejected_even_though_it_passes_range_checks_in_pandera() -> None:
    frame = good_frame()
    frame.loc[0, "score"] = np.inf
    frame.loc[[1, 2], "amount"] = -np.inf
    message = failure(frame)
    assert "column 'score': 1 non-finite value" in message
    assert "column 'amount': 2 non-finite values" in message
    assert "minimum" not in message


def test_values_out_of_range_name_the_bound_and_count() -> None:
    frame = good_frame()
    frame.loc[0, "amount"] = -1.0
    frame.loc[[1, 2, 3], "amount"] = 5_000.0
    frame.loc[4, "visits"] = -3
    message = failure(frame)
    assert "column 'amount': 1 value below the minimum 0.0" in message
    assert "column 'amount': 3 values above the maximum 1000.0" in message
    assert "column 'visits': 1 value below the minimum 0" in message


def test_a_missing_column_is_named() -> None:
    message = failure(good_frame().drop(columns=["visits"]))
    assert message.endswith("(1 problem): column 'visits': missing column")


def test_an_extra_column_is_named_when_the_spec_is_strict() -> None:
    message = failure(good_frame().assign(surprise=0))
    assert "column 'surprise': unexpected column" in message


def test_a_wrong_dtype_is_reported_once_per_column() -> None:
    frame = good_frame()
    frame["visits"] = frame["visits"].astype(str)
    frame["member"] = frame["member"].astype(np.int64)
    message = failure(frame)
    assert "column 'visits': dtype str, expected int" in message
    assert "column 'member': dtype int64, expected bool" in message
    assert message.startswith("data validation failed (2 problems)")


def test_labels_outside_the_allowed_categories_are_counted() -> None:
    frame = good_frame()
    frame.loc[[0, 5], "city"] = "paris"
    frame.loc[1, "city"] = "oz"
    assert "column 'city': 3 values outside the allowed categories ('paris', 'oz')" in failure(
        frame
    )


def test_a_category_dtype_with_undeclared_categories_is_rejected_even_if_unused() -> None:
    frame = good_frame()
    frame["channel"] = frame["channel"].cat.add_categories(["phone"])
    message = failure(frame)
    assert (
        "column 'channel': dtype declares 1 category not in the allowed list ('phone')" in message
    )
    assert "outside the allowed categories" not in message


def test_used_unknown_categories_are_counted_too() -> None:
    frame = good_frame()
    frame["channel"] = frame["channel"].cat.add_categories(["phone"])
    frame.loc[[2, 3], "channel"] = "phone"
    assert "column 'channel': 2 values outside the allowed categories ('phone')" in failure(frame)


def test_several_problems_are_reported_in_one_message() -> None:
    frame = good_frame().drop(columns=["member"]).assign(extra=1)
    frame.loc[0, "amount"] = np.inf
    frame.loc[1, "amount"] = np.nan
    frame.loc[2, "city"] = "paris"
    message = failure(frame)
    assert message == (
        "data validation failed (5 problems): "
        "column 'amount': 1 null value in a non-nullable column; "
        "column 'amount': 1 non-finite value; "
        "column 'city': 1 value outside the allowed categories ('paris'); "
        "column 'member': missing column; "
        "column 'extra': unexpected column"
    )


# --- target checks, with or without a spec ---------------------------------------------------


@pytest.mark.parametrize("spec", [SPEC, None])
def test_a_missing_target_is_named_with_the_available_columns(spec: TableSpec | None) -> None:
    message = failure(good_frame()[["amount", "score"]], spec=None if spec is None else spec)
    assert "target column 'label' not found in data (columns: amount, score)" in message
    assert "column 'label': missing column" not in message


def test_nulls_in_the_target_are_counted_once() -> None:
    frame = good_frame()
    frame["label"] = frame["label"].astype("float64")
    frame.loc[[0, 1], "label"] = np.nan
    spec = TableSpec(columns=(*SPEC.columns[:-1], ColumnSpec("label", "float")))
    message = failure(frame, spec=spec)
    assert "target column 'label': 2 null values" in message
    assert "non-nullable" not in message


@pytest.mark.parametrize("spec", [SPEC, None])
def test_a_single_class_is_rejected(spec: TableSpec | None) -> None:
    frame = good_frame().assign(label=np.int64(1))
    message = failure(frame, spec=spec)
    assert (
        "target column 'label': classification needs at least 2 classes, found 1 (1: 6 rows)"
        in (message)
    )


def test_a_class_with_too_few_members_is_named_with_its_count() -> None:
    frame = good_frame()
    frame["label"] = np.array([0, 0, 0, 1, 1, 2], dtype=np.int64)
    message = failure(frame, spec=None, min_class_members=2)
    assert "target column 'label': 1 class with fewer than 2 members (2 has 1)" in message
    check(frame, spec=None, min_class_members=1)


def test_string_class_labels_are_quoted() -> None:
    frame = good_frame().assign(label=["a", "a", "b", "b", "b", "c"])
    message = failure(frame, spec=None, min_class_members=3)
    assert "2 classes with fewer than 3 members ('a' has 2, 'c' has 1)" in message


def test_a_regression_target_must_be_numeric() -> None:
    frame = good_frame().assign(label=["x"] * 6)
    message = failure(frame, spec=None, task="regression")
    assert "target column 'label': regression needs a numeric target, got dtype str" in message


def test_a_regression_target_must_be_finite() -> None:
    frame = good_frame().assign(label=[1.0, np.inf, 2.0, 3.0, -np.inf, 4.0])
    message = failure(frame, spec=None, task="regression")
    assert "target column 'label': 2 non-finite values" in message


def test_without_a_spec_infinite_feature_values_are_counted() -> None:
    frame = good_frame()
    frame.loc[[0, 4], "score"] = np.inf
    message = failure(frame, spec=None)
    assert message == "data validation failed (1 problem): column 'score': 2 non-finite values"


def test_an_unknown_task_is_rejected() -> None:
    with pytest.raises(DataError, match="unknown task 'ranking'"):
        validate_table(good_frame(), target="label", task="ranking")  # type: ignore[arg-type]
