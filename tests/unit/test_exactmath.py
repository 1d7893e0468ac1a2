from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mergeml.data import exactmath, exactrandom
from mergeml.errors import DataError

TINY = 2.0**-1074  # the smallest subnormal
UNIFORM_EDGES = np.array([0, 1, 2**11 - 1, 2**11, 2**63, 2**64 - 1], dtype=np.uint64)


def ulps(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Distance in units of the last place of ``expected`` (subnormals: in 2**-1074)."""
    return np.abs(actual - expected) / np.spacing(np.abs(expected))


def words(seed: int, n: int) -> np.ndarray:
    return np.random.PCG64(seed).random_raw(n)


# --- exp and log against NumPy -----------------------------------------------------


def test_exp_is_within_two_ulp_of_numpy_over_its_whole_finite_range() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-745.0, 709.78, 400_000),
            rng.uniform(-1.0, 1.0, 100_000),
            rng.normal(0.0, 5.0, 100_000),
            np.ldexp(rng.uniform(-1.0, 1.0, 100_000), rng.integers(-80, 0, 100_000)),
        ]
    )
    with np.errstate(under="ignore"):
        expected = np.exp(x)
    assert ulps(exactmath.exp(x), expected).max() <= 2.0


def test_exp_edges_overflow_and_underflow_like_numpy() -> None:
    x = np.concatenate([np.linspace(700.0, 709.78, 2_001), np.linspace(-746.0, -700.0, 4_001)])
    with np.errstate(under="ignore"):
        expected = np.exp(x)
    got = exactmath.exp(x)
    assert np.all(np.isfinite(got))
    assert np.all(np.abs(got - expected) <= np.maximum(2.0 * np.spacing(expected), TINY))
    with np.errstate(over="ignore"):
        assert np.all(exactmath.exp([709.79, 710.0, 800.0, 1e300]) == np.inf)
    assert np.all(exactmath.exp([-745.2, -746.0, -1e4, -1e300]) == 0.0)
    assert exactmath.exp(-745.1) == TINY


def test_exp_special_values() -> None:
    with np.errstate(over="ignore"):
        got = exactmath.exp([0.0, -0.0, np.inf, -np.inf, np.nan])
    assert got[:2].tolist() == [1.0, 1.0]
    assert got[2] == np.inf
    assert got[3] == 0.0
    assert np.isnan(got[4])


def test_log_is_within_two_ulp_of_numpy_over_every_binade() -> None:
    rng = np.random.default_rng(1)
    n = 500_000
    x = np.ldexp(rng.uniform(0.5, 1.0, n), rng.integers(-1073, 1025, n))  # incl. subnormals
    x = x[(x > 0.0) & np.isfinite(x)]
    near_one = 1.0 + rng.uniform(-0.3, 0.42, 200_000)
    very_near_one = 1.0 + np.ldexp(rng.uniform(-1.0, 1.0, 50_000), rng.integers(-52, -10, 50_000))
    for values in (x, near_one, very_near_one, np.array([TINY, 2.0**-1022, np.finfo(float).max])):
        assert ulps(exactmath.log(values), np.log(values)).max() <= 2.0


def test_log_special_values() -> None:
    got = exactmath.log([1.0, 0.0, -0.0, np.inf, -1.0, -np.inf, np.nan, -TINY])
    assert got[0] == 0.0
    assert got[1] == got[2] == -np.inf
    assert got[3] == np.inf
    assert np.all(np.isnan(got[4:]))


def test_log_of_powers_of_two_is_a_multiple_of_ln2() -> None:
    k = np.arange(-1074, 1024)
    assert ulps(exactmath.log(np.ldexp(1.0, k)), k * math.log(2.0))[k != 0].max() <= 1.0


def test_exp_and_log_invert_each_other() -> None:
    x = np.random.default_rng(2).uniform(-700.0, 700.0, 100_000)
    assert np.allclose(exactmath.log(exactmath.exp(x)), x, rtol=0, atol=1e-13 * 700)


@pytest.mark.parametrize("fn", [exactmath.exp, exactmath.log])
def test_elementwise_functions_keep_the_shape(fn) -> None:
    grid = np.arange(1.0, 7.0).reshape(2, 3)
    assert fn(grid).shape == (2, 3)
    assert fn(2.0).shape == ()
    assert fn([]).shape == (0,)
    assert np.array_equal(fn(grid.T), fn(grid).T)


def test_results_do_not_depend_on_how_the_input_is_blocked() -> None:
    x = np.random.default_rng(3).uniform(0.001, 50.0, 3 * exactmath.BLOCK + 17)
    whole = exactmath.exp(x), exactmath.log(x)
    pieces = [np.concatenate([fn(x[:1000]), fn(x[1000:])]) for fn in (exactmath.exp, exactmath.log)]
    for a, b in zip(whole, pieces, strict=True):
        assert np.array_equal(a, b)


# --- uniforms from raw words ---------------------------------------------------------


def test_uniforms_are_odd_multiples_of_two_to_minus_53_strictly_inside_0_1() -> None:
    w = np.concatenate([words(4, 100_000), UNIFORM_EDGES])
    u = exactmath.uniform(w)
    scaled = u * 2.0**53  # exact
    assert np.all((u > 0.0) & (u < 1.0))
    assert np.all(scaled == np.floor(scaled))
    assert np.all(np.fmod(scaled, 2.0) == 1.0)
    assert np.array_equal(scaled, ((w >> np.uint64(11)) | np.uint64(1)).astype(np.float64))
    assert u[-6] == 2.0**-53
    assert u[-1] == 1.0 - 2.0**-53
    complement = (1.0 - u) * 2.0**53  # 1 - u is exact too
    assert np.all(np.fmod(complement, 2.0) == 1.0)


def test_symmetric_uniforms_are_odd_multiples_of_two_to_minus_52_never_zero() -> None:
    w = np.concatenate([words(5, 100_000), UNIFORM_EDGES])
    v = exactmath.symmetric_uniform(w)
    scaled = v * 2.0**52
    assert np.all((v > -1.0) & (v < 1.0) & (v != 0.0))
    assert np.all(np.abs(np.fmod(scaled, 2.0)) == 1.0)
    assert v[-6] == 2.0**-52
    assert v[-2] == -1.0 + 2.0**-52
    assert 0.49 < np.mean(v[:-6] < 0.0) < 0.51


def test_uniform_does_not_modify_its_input() -> None:
    w = words(6, 10)
    before = w.copy()
    exactmath.uniform(w)
    exactmath.symmetric_uniform(w)
    assert np.array_equal(w, before)


# --- samplers: distribution checks (sampling error bounds, no pinned values) ----------


def draw(sampler, *args, n: int = 200_000, seed: int = 7) -> np.ndarray:
    return sampler(np.random.PCG64(seed), n, *args)


def assert_moments(x: np.ndarray, dist) -> None:
    """Sample mean and variance within 5 standard errors of ``dist``'s."""
    mean, var, excess_kurtosis = (float(v) for v in dist.stats(moments="mvk"))
    n = x.shape[0]
    assert abs(x.mean() - mean) < 5.0 * math.sqrt(var / n)
    assert abs(x.var() - var) < 5.0 * var * math.sqrt((excess_kurtosis + 2.0) / n)


def test_standard_normal_moments_and_shape() -> None:
    z = draw(exactrandom.standard_normal)
    assert_moments(z, stats.norm())
    assert abs(stats.skew(z)) < 5.0 * math.sqrt(6.0 / z.shape[0])
    assert stats.kstest(z, "norm").pvalue > 1e-4


@pytest.mark.parametrize("n", [0, 1, 2, 3, exactmath.BLOCK - 1, 2 * exactmath.BLOCK + 1])
def test_standard_normal_gives_exactly_n_finite_values(n: int) -> None:
    z = draw(exactrandom.standard_normal, n=n)
    assert z.shape == (n,)
    assert np.all(np.isfinite(z))


@pytest.mark.parametrize(("shape", "scale"), [(1, 1.0), (2, 400.0), (20, 0.5)])
def test_erlang_moments(shape: int, scale: float) -> None:
    x = draw(exactrandom.erlang, shape, scale)
    assert np.all(x > 0.0)
    dist = stats.gamma(shape, scale=scale)
    assert_moments(x, dist)
    assert stats.kstest(x, dist.cdf).pvalue > 1e-4


@pytest.mark.parametrize(("a", "b"), [(2, 6), (1, 1), (5, 2), (3, 3)])
def test_beta_moments(a: int, b: int) -> None:
    x = draw(exactrandom.beta, a, b)
    dist = stats.beta(a, b)
    assert np.all((x > 0.0) & (x < 1.0))
    assert_moments(x, dist)
    assert stats.kstest(x, dist.cdf).pvalue > 1e-4


@pytest.mark.parametrize("lam", [0.5, 3.0, 4.0, 25.0])
def test_poisson_frequencies(lam: float) -> None:
    x = draw(exactrandom.poisson, lam)
    assert x.dtype == np.float64
    assert np.all(x == np.floor(x))
    assert x.min() >= 0.0
    assert_moments(x, stats.poisson(lam))
    counts = np.bincount(x.astype(int))
    expected = stats.poisson(lam).pmf(np.arange(counts.shape[0])) * x.shape[0]
    seen = expected > 20.0
    assert np.all(np.abs(counts[seen] - expected[seen]) < 5.0 * np.sqrt(expected[seen]) + 1.0)


def test_logistic_moments() -> None:
    x = draw(exactrandom.logistic)
    assert_moments(x, stats.logistic())
    assert stats.kstest(x, "logistic").pvalue > 1e-4


def test_choice_frequencies() -> None:
    p = [0.30, 0.20, 0.12, 0.14, 0.06, 0.06, 0.09, 0.03]
    codes = draw(exactrandom.choice, p)
    assert codes.min() >= 0
    assert codes.max() == len(p) - 1
    freq = np.bincount(codes, minlength=len(p)) / codes.shape[0]
    bound = 5.0 * np.sqrt(np.array(p) * (1 - np.array(p)) / codes.shape[0])
    assert np.all(np.abs(freq - p) < bound)


def test_choice_never_picks_a_zero_probability_category() -> None:
    codes = draw(exactrandom.choice, [0.5, 0.0, 0.5, 0.0])
    assert set(np.unique(codes).tolist()) == {0, 2}


@pytest.mark.parametrize(
    ("sampler", "args"),
    [
        (exactrandom.standard_normal, ()),
        (exactrandom.erlang, (2, 3.0)),
        (exactrandom.beta, (2, 6)),
        (exactrandom.poisson, (3.0,)),
        (exactrandom.logistic, ()),
        (exactrandom.choice, ([0.2, 0.8],)),
    ],
)
def test_samplers_are_deterministic_and_consume_the_stream(sampler, args) -> None:
    first = np.random.PCG64(11)
    again = np.random.PCG64(11)
    a, b = sampler(first, 5_000, *args), sampler(again, 5_000, *args)
    assert np.array_equal(a, b)
    assert not np.array_equal(sampler(first, 5_000, *args), a)  # the stream moved on


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda g: exactrandom.standard_normal(g, -1), "n must"),
        (lambda g: exactrandom.erlang(g, 10, 0, 1.0), "shape"),
        (lambda g: exactrandom.erlang(g, 10, 2, 0.0), "scale"),
        (lambda g: exactrandom.beta(g, 10, 0, 2), "a must"),
        (lambda g: exactrandom.beta(g, 10, 2, 1.5), "b must"),
        (lambda g: exactrandom.poisson(g, 10, 0.0), "lam"),
        (lambda g: exactrandom.poisson(g, 10, 31.0), "lam"),
        (lambda g: exactrandom.choice(g, 10, [0.5, 0.6]), "sum to 1"),
        (lambda g: exactrandom.choice(g, 10, [1.5, -0.5]), ">= 0"),
        (lambda g: exactrandom.choice(g, 10, []), "non-empty"),
    ],
)
def test_invalid_sampler_arguments_raise_a_data_error(call, match: str) -> None:
    with pytest.raises(DataError, match=match):
        call(np.random.PCG64(0))


# --- the vector kernels are plain IEEE arithmetic: a scalar replay gives the same bits --


def _exp_scalar(x: float) -> float:
    x = min(max(x, exactmath._EXP_LO), exactmath._EXP_HI)
    k = float(round(x * exactmath._INV_LN2))  # round half to even, like np.rint
    r = (x - k * exactmath._LN2_HI) - k * exactmath._LN2_LO
    p = r * exactmath._EXP_COEFFS[0]
    for c in exactmath._EXP_COEFFS[1:]:
        p = (p + c) * r
    return math.ldexp(p + 1.0, int(k))


def _log_scalar(x: float) -> float:
    bits = int(np.float64(x).view(np.int64))
    k = (bits - exactmath._SQRT_HALF_BITS) >> 52
    f = float(np.int64(bits - (k << 52)).view(np.float64)) - 1.0
    s = f / (f + 2.0)
    z = s * s
    tail = z * exactmath._LOG_COEFFS[0]
    for c in exactmath._LOG_COEFFS[1:]:
        tail = (tail + c) * z
    hf2 = f * f * 0.5
    tail = (tail + hf2) * s + k * exactmath._LN2_LO
    return k * exactmath._LN2_HI + (f - (hf2 - tail))


def test_exp_and_log_equal_a_scalar_replay_bit_for_bit() -> None:
    rng = np.random.default_rng(8)
    x = np.concatenate([rng.uniform(-745.0, 709.0, 5_000), rng.normal(0.0, 3.0, 5_000)])
    with np.errstate(under="ignore"):
        assert exactmath.exp(x).tolist() == [_exp_scalar(v) for v in x.tolist()]
    y = np.ldexp(rng.uniform(0.5, 1.0, 10_000), rng.integers(-1020, 1020, 10_000))
    assert exactmath.log(y).tolist() == [_log_scalar(v) for v in y.tolist()]
