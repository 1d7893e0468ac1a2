from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import tracemalloc
from pathlib import Path

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
    _top_k_mask,
    generate_transactions,
    transactions_spec,
)
from mergeml.data.validate import validate_table
from mergeml.errors import DataError
from tests.unit._synthetic_digests import DEFAULT_DIGEST, DRIFT_NOISE_DIGEST, digests

REPO = Path(__file__).resolve().parents[2]


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


def test_top_k_mask_breaks_ties_at_the_cut_by_position() -> None:
    values = np.array([1.0, 3.0, 2.0, 2.0, 0.0, 2.0, 3.0])
    assert _top_k_mask(values, 3).tolist() == [False, True, True, False, False, False, True]
    assert _top_k_mask(values, 0).sum() == 0
    assert _top_k_mask(values, 7).all()
    flat = np.zeros(1_000)
    assert np.flatnonzero(_top_k_mask(flat, 10)).tolist() == list(range(10))


# --- portability: the embedded data must be bit-identical on every CPU ---------------

_FORBIDDEN_NUMPY = (
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "power", "float_power",
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "arctan2",
    "arcsinh", "arccosh", "arctanh", "cbrt", "hypot",
)  # fmt: skip
_FORBIDDEN_MATH = ("exp", "expm1", "log", "log1p", "log2", "log10", "pow", "sin", "cos", "tanh")
_DISTRIBUTIONS = (
    "beta", "binomial", "chisquare", "choice", "exponential", "gamma", "gumbel", "laplace",
    "logistic", "lognormal", "normal", "poisson", "random", "standard_exponential",
    "standard_gamma", "standard_normal", "standard_t", "uniform", "weibull",
)  # fmt: skip


def _raise(name: str):
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{name} must not be used by the data generator")

    return forbidden


def test_generation_uses_no_libm_simd_transcendentals_or_numpy_distributions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = generate_transactions(5_000, seed=3, n_noise_features=3, drift=True)
    for name in _FORBIDDEN_NUMPY:
        monkeypatch.setattr(np, name, _raise(f"np.{name}"))
    for name in _FORBIDDEN_MATH:
        monkeypatch.setattr(math, name, _raise(f"math.{name}"))
    # Generator is an immutable extension type, so its constructors hand out a subclass
    # whose distribution methods raise; the legacy module-level functions raise too.
    raising = type(
        "RaisingGenerator",
        (np.random.Generator,),
        {name: _raise(f"Generator.{name}") for name in _DISTRIBUTIONS},
    )
    monkeypatch.setattr(np.random, "Generator", raising)
    monkeypatch.setattr(np.random, "default_rng", lambda seed=None: raising(np.random.PCG64(seed)))
    for name in _DISTRIBUTIONS:
        monkeypatch.setattr(np.random, name, _raise(f"np.random.{name}"))
    with pytest.raises(AssertionError, match=r"np\.exp"):
        np.exp(1.0)
    with pytest.raises(AssertionError, match=r"Generator\.normal"):
        np.random.default_rng(0).normal()

    frame = generate_transactions(5_000, seed=3, n_noise_features=3, drift=True)
    pd.testing.assert_frame_equal(frame, expected)
    generate_transactions(100, seed=0)


def test_the_default_dataset_has_its_pinned_bytes() -> None:
    assert digests() == {"default": DEFAULT_DIGEST, "drift_noise": DRIFT_NOISE_DIGEST}


_CHILD = r"""
import contextlib, io, json, re
import numpy as np
from tests.unit._synthetic_digests import digests

with contextlib.redirect_stdout(io.StringIO()) as runtime:
    np.show_runtime()
text = runtime.getvalue()
found = re.search(r"'found': \[([^\]]*)\]", text)
blas = re.search(r"'architecture': '([^']*)'", text)
print(json.dumps({
    "found": re.findall(r"'(\w+)'", found.group(1)) if found else None,
    "blas": blas.group(1) if blas else None,
    "digests": digests(),
}))
"""
_AVX512 = ("X86_V4", "AVX512_ICL", "AVX512_SPR")
_AVX2 = ("X86_V3",)


def _children(*envs: dict[str, str]) -> list[dict]:
    """Build the datasets in fresh interpreters, one per ``env`` and all at once; the
    digests and dispatch of each."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD],
            cwd=REPO,
            env={**os.environ, "NPY_DISABLE_CPU_FEATURES": "", "OPENBLAS_CORETYPE": "", **env},
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for env in envs
    ]
    results = []
    for env, proc in zip(envs, procs, strict=True):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{env} exited {proc.returncode}\n{out}\n{err}"
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.mark.skipif(
    platform.machine().lower() not in {"x86_64", "amd64"}, reason="x86 dispatch targets"
)
def test_the_data_is_identical_under_every_simd_dispatch_and_blas_core() -> None:
    """Fresh processes with AVX-512 off, AVX2 off too, and old OpenBLAS cores agree.

    An AVX-512 machine gave different bytes with the old generator; this one may lack
    AVX-512 (then only the AVX2 switch changes dispatch), which is why the guard above
    checks that no dispatched transcendental is reachable at all.
    """
    cores = ("Nehalem", "Sandybridge")
    base, no_avx512, no_avx2, *blas_runs = _children(
        {},
        {"NPY_DISABLE_CPU_FEATURES": " ".join(_AVX512)},
        {"NPY_DISABLE_CPU_FEATURES": " ".join(_AVX2 + _AVX512)},
        *({"OPENBLAS_CORETYPE": core} for core in cores),
    )
    assert base["found"] is not None
    assert base["digests"] == digests()

    assert not set(no_avx512["found"]) & set(_AVX512)
    if set(base["found"]) & set(_AVX512):
        assert no_avx512["found"] != base["found"]
    assert not set(no_avx2["found"]) & set(_AVX2 + _AVX512)
    if set(base["found"]) & set(_AVX2):
        assert no_avx2["found"] != base["found"]
    runs = [no_avx512, no_avx2]
    for core, blas in zip(cores, blas_runs, strict=True):
        if base["blas"] is not None:
            assert blas["blas"].lower() == core.lower()
        runs.append(blas)

    for other in runs:
        assert other["digests"] == base["digests"]
