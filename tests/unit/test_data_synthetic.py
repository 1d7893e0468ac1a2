from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from mergeml.data.synthetic import (
    CATEGORICAL_FEATURES,
    CHANNELS,
    COUNTRIES,
    HOME_COUNTRY,
    MERCHANT_CATEGORIES,
    NUMERIC_FEATURES,
    TARGET,
    generate_transactions,
    transactions_spec,
)
from mergeml.data.validate import validate_table
from mergeml.errors import DataError


def test_same_arguments_give_an_identical_frame() -> None:
    first = generate_transactions(2_000, seed=11, n_noise_features=3, drift=True)
    second = generate_transactions(2_000, seed=11, n_noise_features=3, drift=True)
    pd.testing.assert_frame_equal(first, second)


def test_a_different_seed_gives_a_different_frame() -> None:
    first = generate_transactions(500, seed=1)
    second = generate_transactions(500, seed=2)
    assert not np.allclose(first["amount"], second["amount"])
    assert not first[TARGET].equals(second[TARGET])


def test_generation_does_not_touch_global_random_state() -> None:
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    generate_transactions(100, seed=5)
    assert np.array_equal(np.random.random(3), expected)


def test_columns_are_in_spec_order_with_the_documented_dtypes() -> None:
    frame = generate_transactions(300, seed=0, n_noise_features=2)
    spec = transactions_spec(2)
    assert tuple(frame.columns) == spec.names
    assert tuple(frame.columns[:7]) == NUMERIC_FEATURES
    assert tuple(frame.columns[7:10]) == CATEGORICAL_FEATURES
    assert list(frame.columns[10:12]) == ["noise_000", "noise_001"]
    for name in (*NUMERIC_FEATURES, "noise_000", "noise_001"):
        assert frame[name].dtype == np.float64, name
    for name in CATEGORICAL_FEATURES:
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
    assert frame[TARGET].dtype == np.int64
    assert set(frame[TARGET].unique()) == {0, 1}


def test_category_lists_are_fixed_whatever_rows_appear() -> None:
    tiny = generate_transactions(3, seed=4)
    large = generate_transactions(5_000, seed=9, drift=True)
    for name, categories in zip(
        CATEGORICAL_FEATURES, (MERCHANT_CATEGORIES, CHANNELS, COUNTRIES), strict=True
    ):
        assert tuple(tiny[name].cat.categories) == categories
        assert tiny[name].dtype == large[name].dtype


@pytest.mark.parametrize(("n_rows", "rate"), [(10_000, 0.02), (20_000, 0.005), (3_000, 0.3)])
def test_positive_rate_matches_the_request(n_rows: int, rate: float) -> None:
    frame = generate_transactions(n_rows, seed=3, positive_rate=rate)
    assert frame[TARGET].mean() == pytest.approx(rate, abs=0.5 / n_rows)


def test_a_tiny_frame_still_has_both_classes() -> None:
    frame = generate_transactions(10, seed=0, positive_rate=0.01)
    assert frame[TARGET].value_counts().to_dict() == {0: 9, 1: 1}


def test_noise_features_do_not_change_informative_columns_or_labels() -> None:
    plain = generate_transactions(1_000, seed=8)
    noisy = generate_transactions(1_000, seed=8, n_noise_features=4)
    pd.testing.assert_frame_equal(noisy[list(plain.columns)], plain)


@pytest.mark.parametrize("drift", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_generated_data_satisfies_its_own_spec(seed: int, drift: bool) -> None:
    frame = generate_transactions(3_000, seed=seed, n_noise_features=2, drift=drift)
    validate_table(frame, target=TARGET, task="classification", spec=transactions_spec(2))


def test_drift_shifts_amounts_and_the_channel_and_country_mix() -> None:
    base = generate_transactions(20_000, seed=5)
    drifted = generate_transactions(20_000, seed=5, drift=True)
    assert drifted["amount"].median() > 1.3 * base["amount"].median()
    assert (drifted["channel"] == "in_store").mean() < (base["channel"] == "in_store").mean() - 0.15
    cross_border = (drifted["country"] != HOME_COUNTRY).mean()
    assert cross_border > (base["country"] != HOME_COUNTRY).mean() + 0.1
    assert drifted[TARGET].mean() == pytest.approx(base[TARGET].mean())


def test_labels_are_learnable_but_not_trivial() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    frame = generate_transactions(20_000, seed=0, n_noise_features=5)
    train, test = frame.iloc[:15_000], frame.iloc[15_000:]
    model = HistGradientBoostingClassifier(random_state=0, categorical_features="from_dtype")
    model.fit(train.drop(columns=TARGET), train[TARGET])
    auc = roc_auc_score(test[TARGET], model.predict_proba(test.drop(columns=TARGET))[:, 1])
    assert 0.85 <= auc <= 0.97


def test_generation_allocates_little_beyond_the_frame_itself() -> None:
    tracemalloc.start()
    try:
        frame = generate_transactions(200_000, seed=1, n_noise_features=20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert frame.shape == (200_000, 31)
    assert peak < 1.25 * frame.memory_usage(deep=True).sum()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_rows": 0},
        {"n_rows": -5},
        {"positive_rate": 0.0},
        {"positive_rate": 0.5},
        {"positive_rate": -0.1},
        {"n_noise_features": -1},
    ],
)
def test_invalid_arguments_raise_a_data_error(kwargs: dict[str, float]) -> None:
    args: dict = {"n_rows": 100, "seed": 0, **kwargs}
    name = next(iter(kwargs))
    with pytest.raises(DataError, match=name):
        generate_transactions(**args)


def test_spec_rejects_a_negative_noise_count() -> None:
    with pytest.raises(DataError, match="n_noise_features"):
        transactions_spec(-1)
