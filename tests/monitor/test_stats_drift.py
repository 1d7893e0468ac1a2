"""Drift of a whole window: known shifts found, same-distribution windows quiet at the
nominal rate, tiny windows undecided, bad inputs one line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mergeml.config.monitor import DriftSettings
from mergeml.data.synthetic import generate_transactions
from mergeml.errors import DataError
from mergeml.evaluation.profile import build_profile
from mergeml.model.schema import training_schema
from mergeml.monitor.stats import drift

SETTINGS = DriftSettings()
# The columns the synthetic generator's drift switch moves, and those it leaves alone.
MOVED = {"amount", "distance_from_home_km", "account_age_days", "txn_count_24h", "channel"}


def _profile(frame: pd.DataFrame, settings: DriftSettings = SETTINGS) -> dict[str, object]:
    schema = training_schema(frame, "is_fraud", "classification")
    return build_profile(frame, schema, None, model_md5="x", settings=settings)


@pytest.fixture(scope="module")
def large() -> dict[str, object]:
    return _profile(generate_transactions(6000, seed=1, drift=False))


def test_the_synthetic_drift_switch_is_found_and_its_absence_is_quiet(
    large: dict[str, object],
) -> None:
    quiet = drift(large, generate_transactions(3000, seed=2, drift=False), SETTINGS)
    moved = drift(large, generate_transactions(3000, seed=3, drift=True), SETTINGS)

    assert not any(f.drifted for f in quiet.features)
    assert quiet.dataset_drift is False
    assert {f.column for f in moved.features if f.drifted} >= MOVED - {"channel"}
    assert moved.dataset_drift is True
    assert moved.drifted_share >= 0.5
    assert moved.n_current == 3000
    assert moved.correction == "none"


def test_known_shifts_are_found_on_a_small_reference() -> None:
    reference = generate_transactions(900, seed=4, drift=False)
    shifted = generate_transactions(900, seed=5, drift=False)
    shifted["amount"] = shifted["amount"] * 1.5
    shifted["channel"] = shifted["channel"].cat.set_categories(
        list(shifted["channel"].cat.categories)
    )
    shifted.loc[shifted.index[:300], "channel"] = shifted["channel"].cat.categories[0]

    result = drift(_profile(reference), shifted, SETTINGS)
    found = {f.column: f for f in result.features}

    assert found["amount"].method == "ks"
    assert found["amount"].drifted is True
    assert found["channel"].drifted is True
    assert found["hour_of_day"].drifted is False


def _false_alarms(reference_rows: int, current_rows: int) -> dict[str, float]:
    """Share of 200 same-distribution windows each method calls drifted."""
    alarms = {"ks": 0, "chisquare": 0, "z": 0}
    schema = {
        "columns": [
            {"name": n, "dtype": d} for n, d in (("x", "float"), ("c", "str"), ("b", "bool"))
        ]
    }
    for seed in range(200):
        rng = np.random.default_rng(seed)
        frames = [
            pd.DataFrame(
                {
                    "x": rng.normal(size=rows),
                    "c": rng.choice(list("abcd"), rows, p=[0.4, 0.3, 0.2, 0.1]),
                    "b": rng.random(rows) < 0.3,
                }
            )
            for rows in (reference_rows, current_rows)
        ]
        profile = build_profile(frames[0], schema, None, model_md5="x", settings=SETTINGS)
        for feature in drift(profile, frames[1], SETTINGS).features:
            alarms[feature.method] += bool(feature.drifted)
    return {method: count / 200 for method, count in alarms.items()}


def test_same_distribution_windows_drift_at_about_the_nominal_rate() -> None:
    """KS and the z-test are two-sample tests: near 0.05 whatever the sizes. Chi-squared
    (Evidently's goodness of fit against the reference frequencies) is near it when the
    window is small beside the reference; see the README on larger windows."""
    rates = _false_alarms(1000, 120)
    assert all(0.01 <= rate <= 0.10 for rate in rates.values()), rates

    balanced = _false_alarms(400, 400)
    assert 0.01 <= balanced["ks"] <= 0.10, balanced
    assert 0.01 <= balanced["z"] <= 0.10, balanced


def test_a_tiny_window_is_not_enough_data_never_drift(large: dict[str, object]) -> None:
    tiny = generate_transactions(40, seed=6, drift=True)

    result = drift(large, tiny, SETTINGS)

    for feature in result.features:
        assert feature.drifted is None
        assert feature.statistic is None
        assert feature.psi is None
        assert feature.reason == "not enough data (n=40 < min_rows=100)"
    assert result.drifted_share == 0.0
    assert result.dataset_drift is False
    assert drift(large, tiny.iloc[:0], SETTINGS).dataset_drift is False


def test_missing_values_count_against_min_rows_and_are_reported() -> None:
    reference = pd.DataFrame({"x": np.arange(1000.0)})
    reference.loc[:99, "x"] = np.nan
    current = pd.DataFrame({"x": np.r_[np.full(150, np.nan), np.arange(90.0)]})

    profile = build_profile(
        reference,
        {"columns": [{"name": "x", "dtype": "float"}]},
        None,
        model_md5="x",
        settings=SETTINGS,
    )
    feature = drift(profile, current, SETTINGS).features[0]

    assert feature.missing_ref == pytest.approx(0.1)
    assert feature.missing_cur == pytest.approx(150 / 240)
    assert feature.n_current == 90
    assert feature.drifted is None


def test_out_of_range_is_the_share_outside_the_reference_min_and_max() -> None:
    reference = pd.DataFrame({"x": np.linspace(0.0, 10.0, 500)})
    current = pd.DataFrame({"x": np.r_[np.linspace(0.0, 10.0, 150), [-1.0] * 30, [11.0] * 20]})
    profile = build_profile(
        reference,
        {"columns": [{"name": "x", "dtype": "float"}]},
        None,
        model_md5="x",
        settings=SETTINGS,
    )

    assert drift(profile, current, SETTINGS).features[0].out_of_range == pytest.approx(0.25)


def test_benjamini_hochberg_adjusts_the_p_values_as_scipy_does() -> None:
    rng = np.random.default_rng(11)
    reference = pd.DataFrame({f"x{i}": rng.normal(size=600) for i in range(6)})
    current = pd.DataFrame({f"x{i}": rng.normal(0.06 * i, 1, 400) for i in range(6)})
    schema = {"columns": [{"name": c, "dtype": "float"} for c in reference.columns]}
    bh = DriftSettings(correction="bh")
    profile = build_profile(reference, schema, None, model_md5="x", settings=bh)

    raw = [f.p_value for f in drift(profile, current, SETTINGS).features]
    adjusted = drift(profile, current, bh)

    expected = stats.false_discovery_control(raw, method="bh")
    assert [f.p_value for f in adjusted.features] == pytest.approx(list(expected))
    assert [f.drifted for f in adjusted.features] == [bool(p < 0.05) for p in expected]
    assert adjusted.correction == "bh"
    assert "BH-adjusted" in adjusted.features[0].reason


def test_the_score_is_checked_for_drift_apart_from_the_features() -> None:
    rng = np.random.default_rng(12)
    frame = generate_transactions(800, seed=7, drift=False)
    schema = training_schema(frame, "is_fraud", "classification")
    profile = build_profile(
        frame, schema, rng.beta(1, 8, 800), model_md5="x", settings=SETTINGS, score_name="proba_1"
    )
    current = generate_transactions(500, seed=8, drift=False)

    same = drift(profile, current, SETTINGS, scores=rng.beta(1, 8, 500))
    moved = drift(profile, current, SETTINGS, scores=rng.beta(3, 5, 500))

    assert same.score is not None
    assert same.score.column == "score"
    assert not same.score.drifted
    assert moved.score is not None
    assert moved.score.drifted is True
    assert moved.dataset_drift is False  # the score is not a feature
    assert drift(profile, current, SETTINGS).score is None


def test_columns_outside_the_profile_are_ignored(large: dict[str, object]) -> None:
    current = generate_transactions(500, seed=9, drift=False)
    current["request_id"] = "r"
    current["is_fraud"] = 1

    result = drift(large, current, SETTINGS)

    assert "request_id" not in {f.column for f in result.features}
    assert "is_fraud" not in {f.column for f in result.features}


def test_a_profile_column_missing_from_the_window_is_one_line(large: dict[str, object]) -> None:
    current = generate_transactions(500, seed=9, drift=False).drop(columns=["channel"])

    with pytest.raises(DataError, match=r"^the current data has no column 'channel'") as caught:
        drift(large, current, SETTINGS)
    assert "\n" not in str(caught.value)


def test_words_in_a_numeric_column_are_one_line(large: dict[str, object]) -> None:
    current = generate_transactions(500, seed=9, drift=False)
    current["amount"] = current["amount"].astype(object)
    current.loc[current.index[3], "amount"] = "n/a"

    with pytest.raises(DataError, match="column 'amount': expected numbers, got 'n/a'"):
        drift(large, current, SETTINGS)


def test_dataset_drift_needs_the_configured_share_of_judged_features(
    large: dict[str, object],
) -> None:
    moved = generate_transactions(3000, seed=3, drift=True)
    share = drift(large, moved, SETTINGS).drifted_share

    assert drift(large, moved, DriftSettings(dataset_share=share)).dataset_drift is True
    assert (
        drift(large, moved, DriftSettings(dataset_share=min(share + 0.05, 1.0))).dataset_drift
        is False
    )
