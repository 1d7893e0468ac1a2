"""Each drift method against scipy (or the formula by hand) on the same samples: same
statistics, same decisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from mergeml.config.monitor import DriftSettings
from mergeml.evaluation.profile import build_profile
from mergeml.monitor.stats import FeatureDrift, drift

SETTINGS = DriftSettings()


def _schema(frame: pd.DataFrame) -> dict[str, object]:
    kinds = {"f": "float", "i": "int", "O": "str", "b": "bool"}
    columns = [{"name": c, "dtype": kinds[frame[c].dtype.kind]} for c in frame.columns]
    return {"format": 1, "target": "y", "columns": columns}


def _check(reference: pd.DataFrame, current: pd.DataFrame, **settings: object) -> FeatureDrift:
    chosen = DriftSettings(**settings)  # type: ignore[arg-type]
    profile = build_profile(reference, _schema(reference), None, model_md5="x", settings=chosen)
    return drift(profile, current, chosen).features[0]


def test_ks_matches_scipy_on_a_small_reference() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(0, 1, 700), rng.normal(0.15, 1, 400)

    found = _check(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))
    expected = stats.ks_2samp(ref, cur)

    assert found.method == "ks"
    assert found.kind == "numeric"
    assert found.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert found.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert found.drifted == (expected.pvalue < 0.05)
    assert found.threshold == 0.05


def test_chisquare_matches_scipy_with_reference_frequencies_as_expected_counts() -> None:
    rng = np.random.default_rng(4)
    ref = rng.choice(["a", "b", "c", "d"], 900, p=[0.4, 0.3, 0.2, 0.1])
    cur = rng.choice(["a", "b", "c", "d"], 500, p=[0.35, 0.3, 0.2, 0.15])

    found = _check(pd.DataFrame({"c": ref}), pd.DataFrame({"c": cur}))
    keys = ["a", "b", "c", "d"]
    ref_counts = np.array([(ref == k).sum() for k in keys])
    cur_counts = np.array([(cur == k).sum() for k in keys])
    expected = stats.chisquare(cur_counts, ref_counts * len(cur) / len(ref))

    assert found.method == "chisquare"
    assert found.kind == "categorical"
    assert found.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert found.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert found.drifted == (expected.pvalue < 0.05)


def test_a_category_never_seen_in_the_reference_is_drift_and_counted_unknown() -> None:
    ref = pd.DataFrame({"c": ["a", "b", "c"] * 200})
    cur = pd.DataFrame({"c": ["a", "b", "c", "zzz"] * 50})

    found = _check(ref, cur)

    assert found.drifted is True
    assert found.p_value == 0.0
    assert found.unknown_categories == pytest.approx(0.25)


def test_z_test_matches_the_two_proportion_formula() -> None:
    rng = np.random.default_rng(5)
    ref, cur = rng.random(600) < 0.30, rng.random(300) < 0.38

    found = _check(pd.DataFrame({"b": ref}), pd.DataFrame({"b": cur}))
    p1, p2 = (~ref).mean(), (~cur).mean()  # the share of the first value, "False"
    pooled = (p1 * len(ref) + p2 * len(cur)) / (len(ref) + len(cur))
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / len(ref) + 1 / len(cur)))
    p = 2 * (1 - stats.norm.cdf(abs(z)))

    assert found.method == "z"
    assert found.statistic == pytest.approx(z, rel=1e-12)
    assert found.p_value == pytest.approx(p, rel=1e-9)
    assert found.drifted == (p < 0.05)


def test_a_numeric_column_with_few_values_is_tested_as_categorical() -> None:
    rng = np.random.default_rng(6)
    ref = pd.DataFrame({"n": rng.integers(0, 4, 800)})
    cur = pd.DataFrame({"n": rng.integers(0, 4, 300).astype(float)})  # 1.0 counts as 1

    found = _check(ref, cur)

    assert found.method == "chisquare"
    assert found.unknown_categories == 0.0


def test_normed_wasserstein_from_quantiles_is_scipys_on_raw_samples_within_1_percent() -> None:
    rng = np.random.default_rng(7)
    ref, cur = rng.gamma(2.0, 3.0, 20_000), rng.gamma(2.3, 3.0, 5_000)

    found = _check(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)

    assert found.method == "wasserstein"
    assert found.p_value is None
    # the stored 1001 quantiles approximate the quantile functions: within 1% + 0.002
    assert found.statistic == pytest.approx(expected, rel=0.01, abs=0.002)
    assert found.drifted == (expected >= 0.1)
    assert found.threshold == 0.1


def test_jensenshannon_matches_scipy_natural_log_on_a_large_reference() -> None:
    rng = np.random.default_rng(8)
    ref = rng.choice(["a", "b", "c"], 5_000, p=[0.5, 0.3, 0.2])
    cur = rng.choice(["a", "b", "c", "d"], 2_000, p=[0.4, 0.3, 0.2, 0.1])

    found = _check(pd.DataFrame({"c": ref}), pd.DataFrame({"c": cur}))
    keys = ["a", "b", "c", "d"]
    p = np.array([(ref == k).mean() for k in keys])
    q = np.array([(cur == k).mean() for k in keys])
    expected = distance.jensenshannon(p, q)

    assert found.method == "jensenshannon"
    assert found.statistic == pytest.approx(expected, rel=1e-12)
    assert found.drifted == (expected >= 0.1)


def test_psi_uses_reference_deciles_and_its_bands() -> None:
    rng = np.random.default_rng(9)
    ref, cur = rng.normal(0, 1, 10_000), rng.normal(0.5, 1, 4_000)

    found = _check(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))
    edges = np.quantile(ref, np.arange(1, 10) / 10)
    expected_share = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=10)
    actual_share = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=10)
    e, a = expected_share / len(ref), actual_share / len(cur)
    psi = float(np.sum((a - e) * np.log(a / e)))

    assert found.psi == pytest.approx(psi, rel=1e-9)
    assert found.psi_band == (
        "stable" if psi < 0.1 else "moderate" if psi < 0.25 else "significant"
    )


def test_other_thresholds_come_from_the_settings() -> None:
    rng = np.random.default_rng(10)
    ref, cur = rng.normal(0, 1, 700), rng.normal(0.2, 1, 400)
    p = stats.ks_2samp(ref, cur).pvalue

    strict = _check(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), p_value=p / 2)
    loose = _check(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), p_value=min(p * 2, 0.9))

    assert strict.drifted is False
    assert loose.drifted is True
    distance_run = _check(
        pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), small_reference_rows=100
    )
    assert distance_run.method == "wasserstein"


def test_a_bool_column_is_the_same_whether_the_window_spells_it_1_0_or_true_false() -> None:
    rng = np.random.default_rng(13)
    ref, cur = rng.random(600) < 0.3, rng.random(300) < 0.3

    as_bool = _check(pd.DataFrame({"b": ref}), pd.DataFrame({"b": cur}))
    as_int = _check(pd.DataFrame({"b": ref}), pd.DataFrame({"b": cur.astype(int)}))
    as_text = _check(pd.DataFrame({"b": ref}), pd.DataFrame({"b": np.where(cur, "true", "false")}))

    assert as_int == as_bool
    assert as_text == as_bool
    assert as_bool.unknown_categories == 0.0
