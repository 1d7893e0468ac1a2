from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mergeml.data.split import check_no_overlap, split_frame
from mergeml.errors import DataError


def frame(n_rows: int = 100, positives: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n_rows),
            "colour": pd.Categorical(rng.choice(["red", "blue"], size=n_rows)),
            "y": np.r_[np.ones(positives, dtype=np.int64), np.zeros(n_rows - positives, np.int64)],
        },
        index=np.arange(1_000, 1_000 + n_rows),
    )


def row_hashes(df: pd.DataFrame) -> list[int]:
    return sorted(pd.util.hash_pandas_object(df, index=False).tolist())


def test_split_sizes_follow_test_size_and_indexes_are_reset() -> None:
    train, test = split_frame(frame(), target="y", test_size=0.25, stratify=False, seed=0)
    assert (len(train), len(test)) == (75, 25)
    assert train.index.equals(pd.RangeIndex(75))
    assert test.index.equals(pd.RangeIndex(25))


def test_every_row_lands_in_exactly_one_part() -> None:
    data = frame()
    train, test = split_frame(data, target="y", test_size=0.3, stratify=True, seed=1)
    assert row_hashes(pd.concat([train, test])) == row_hashes(data)


def test_the_same_seed_gives_the_same_split_and_another_seed_does_not() -> None:
    data = frame()
    first = split_frame(data, target="y", test_size=0.2, stratify=True, seed=7)
    again = split_frame(data, target="y", test_size=0.2, stratify=True, seed=7)
    other = split_frame(data, target="y", test_size=0.2, stratify=True, seed=8)
    pd.testing.assert_frame_equal(first[1], again[1])
    assert row_hashes(first[1]) != row_hashes(other[1])


def test_stratification_keeps_the_class_balance_in_both_parts() -> None:
    train, test = split_frame(frame(200, 20), target="y", test_size=0.25, stratify=True, seed=3)
    assert test["y"].sum() == 5
    assert train["y"].sum() == 15


def test_a_class_too_small_to_stratify_is_named_with_its_count() -> None:
    data = frame(50, 1)
    with pytest.raises(DataError, match=r"target column 'y'.*\(1 has 1\)"):
        split_frame(data, target="y", test_size=0.2, stratify=True, seed=0)


def test_a_single_class_cannot_be_stratified() -> None:
    with pytest.raises(DataError, match="found 1 class, need at least 2"):
        split_frame(frame(20, 0), target="y", test_size=0.2, stratify=True, seed=0)


def test_too_many_classes_for_the_test_part_is_a_data_error_not_a_traceback() -> None:
    data = frame(20).assign(y=np.repeat(np.arange(5), 4))
    with pytest.raises(DataError, match="test part has 2 rows but there are 5 classes"):
        split_frame(data, target="y", test_size=0.1, stratify=True, seed=0)


def test_without_stratification_a_rare_class_is_fine() -> None:
    train, test = split_frame(frame(50, 1), target="y", test_size=0.2, stratify=False, seed=0)
    assert train["y"].sum() + test["y"].sum() == 1


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.2, 1.5, True])
def test_test_size_outside_zero_one_is_rejected(test_size: float) -> None:
    with pytest.raises(DataError, match="test_size must be in"):
        split_frame(frame(), target="y", test_size=test_size, stratify=False, seed=0)


def test_too_few_rows_to_split_is_rejected() -> None:
    with pytest.raises(DataError, match="cannot split 1 rows"):
        split_frame(frame(1, 0), target="y", test_size=0.5, stratify=False, seed=0)


def test_a_missing_target_is_named() -> None:
    with pytest.raises(DataError, match="target column 'label' not found"):
        split_frame(frame(), target="label", test_size=0.2, stratify=False, seed=0)


def test_disjoint_parts_pass_the_overlap_check() -> None:
    train, test = split_frame(frame(), target="y", test_size=0.2, stratify=True, seed=0)
    check_no_overlap(train, test)


def test_duplicated_rows_across_train_and_test_are_counted() -> None:
    train, test = split_frame(frame(), target="y", test_size=0.2, stratify=False, seed=0)
    leaked = pd.concat([test, train.iloc[[0, 5, 9]]], ignore_index=True)
    with pytest.raises(DataError, match="overlap: 3 of 23 test rows are identical"):
        check_no_overlap(train, leaked)


def test_duplicate_rows_in_the_source_show_up_as_overlap_after_splitting() -> None:
    data = frame()
    with_duplicates = pd.concat([data, data.iloc[:30]], ignore_index=True)
    train, test = split_frame(with_duplicates, target="y", test_size=0.5, stratify=False, seed=0)
    with pytest.raises(DataError, match="train/test overlap"):
        check_no_overlap(train, test)


def test_the_overlap_check_compares_content_not_the_index() -> None:
    train = frame(10, 3)
    test = train.iloc[:2].set_axis([77, 78])
    with pytest.raises(DataError, match="2 of 2 test rows"):
        check_no_overlap(train, test)


def test_parts_with_different_columns_are_rejected() -> None:
    data = frame()
    with pytest.raises(DataError, match="different columns"):
        check_no_overlap(data, data.drop(columns="x"))
