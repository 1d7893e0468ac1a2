"""Deterministic, fraud-like card transactions for tests, demos and benchmarks.

Labels come from a latent logistic model: ``is_fraud = 1`` for the rows whose
``risk + logistic noise`` is largest, exactly ``round(n_rows * positive_rate)`` of them
(at least one, and at least one negative, when ``n_rows >= 2``). Thresholding a latent
logistic variable at its quantile is the same as a logistic model whose intercept is
calibrated on the sample, so the realised positive rate matches the request.

``drift=True`` changes the feature distributions (larger amounts and distances, more
online and cross-border traffic, newer accounts) while keeping the same risk function and
positive rate, for drift-monitoring work.

Portability: the same arguments give a bit-identical frame on every CPU and OS (x86 with
or without AVX2/AVX-512, Apple Silicon, glibc or macOS libm), because its bytes are pinned
in ``dvc.lock``. Randomness is only the raw 64-bit words of ``np.random.PCG64(seed)``,
turned into floats exactly; every float operation is one whose result IEEE 754 fixes
(``+ - * /``, ``sqrt``, comparisons, ``min``/``max``, ``rint``, ``ldexp``, bit arithmetic),
with ``exp``/``log`` in :mod:`mergeml.data.exactmath` and the samplers built from them in
:mod:`mergeml.data.exactrandom`.
No libm, no NumPy SIMD transcendentals, no ``Generator`` distributions, no float sums, and
the positives are chosen by value with ties broken by position, not by a sort's tie order.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from mergeml.data import exactmath, exactrandom
from mergeml.data.spec import ColumnSpec, TableSpec
from mergeml.errors import DataError

log = logging.getLogger(__name__)

TARGET = "is_fraud"

MERCHANT_CATEGORIES: tuple[str, ...] = (
    "grocery",
    "restaurant",
    "fuel",
    "online_retail",
    "travel",
    "electronics",
    "entertainment",
    "gambling",
)
CHANNELS: tuple[str, ...] = ("in_store", "online", "mobile_app", "phone")
COUNTRIES: tuple[str, ...] = ("US", "CA", "MX", "GB", "DE", "FR", "BR", "IN", "other")
HOME_COUNTRY = "US"

NUMERIC_FEATURES: tuple[str, ...] = (
    "amount",
    "hour_of_day",
    "distance_from_home_km",
    "account_age_days",
    "txn_count_24h",
    "merchant_risk_score",
    "amount_to_avg_ratio",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("merchant_category", "channel", "country")

# Risk offsets per label, in the order of the category tuples above.
_MERCHANT_RISK = np.array([-0.6, -0.4, -0.2, 0.4, 0.5, 0.7, 0.0, 0.9])
_CHANNEL_RISK = np.array([-0.7, 0.4, 0.2, 0.5])
_CROSS_BORDER_RISK = 0.8
# Multiplies the risk score before the unit logistic noise: sets how learnable labels are.
_SIGNAL_STRENGTH = 1.4

_MERCHANT_MIX = (0.30, 0.20, 0.12, 0.14, 0.06, 0.06, 0.09, 0.03)
_CHANNEL_MIX = {False: (0.55, 0.25, 0.15, 0.05), True: (0.30, 0.40, 0.25, 0.05)}
_COUNTRY_MIX = {
    False: (0.82, 0.04, 0.03, 0.03, 0.02, 0.02, 0.01, 0.01, 0.02),
    True: (0.62, 0.05, 0.05, 0.06, 0.04, 0.04, 0.04, 0.04, 0.06),
}


def noise_feature_names(n_noise_features: int) -> tuple[str, ...]:
    """Names of the pure-noise float columns: ``noise_000``, ``noise_001``, ..."""
    return tuple(f"noise_{i:03d}" for i in range(n_noise_features))


def transactions_spec(n_noise_features: int) -> TableSpec:
    """The table contract that :func:`generate_transactions` satisfies."""
    _check_noise_features(n_noise_features)
    columns = (
        ColumnSpec("amount", "float", min=0.0),
        ColumnSpec("hour_of_day", "float", min=0.0, max=24.0),
        ColumnSpec("distance_from_home_km", "float", min=0.0),
        ColumnSpec("account_age_days", "float", min=0.0),
        ColumnSpec("txn_count_24h", "float", min=0.0),
        ColumnSpec("merchant_risk_score", "float", min=0.0, max=1.0),
        ColumnSpec("amount_to_avg_ratio", "float", min=0.0),
        ColumnSpec("merchant_category", "category", categories=MERCHANT_CATEGORIES),
        ColumnSpec("channel", "category", categories=CHANNELS),
        ColumnSpec("country", "category", categories=COUNTRIES),
        *(ColumnSpec(name, "float") for name in noise_feature_names(n_noise_features)),
        ColumnSpec(TARGET, "int", min=0, max=1),
    )
    return TableSpec(columns=columns, strict=True)


def generate_transactions(
    n_rows: int,
    *,
    seed: int,
    positive_rate: float = 0.02,
    n_noise_features: int = 0,
    drift: bool = False,
) -> pd.DataFrame:
    """Generate ``n_rows`` transactions; the same arguments give an identical frame everywhere.

    Columns are drawn one at a time from the words of ``np.random.PCG64(seed)``;
    informative columns and the label are drawn before the noise columns, so
    ``n_noise_features`` does not change them.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 1:
        raise DataError(f"n_rows must be an integer >= 1, got {n_rows!r}")
    if not 0.0 < positive_rate < 0.5:
        raise DataError(f"positive_rate must be in (0, 0.5), got {positive_rate!r}")
    _check_noise_features(n_noise_features)

    bits = np.random.PCG64(seed)
    cols, risk = _informative_columns(bits, n_rows, drift)
    risk *= _SIGNAL_STRENGTH
    risk += exactrandom.logistic(bits, n_rows)
    label = _top_k_mask(risk, _n_positive(n_rows, positive_rate)).astype(np.int64)
    del risk

    for name in noise_feature_names(n_noise_features):
        cols[name] = exactrandom.standard_normal(bits, n_rows)
    cols[TARGET] = label

    frame = pd.DataFrame(cols, copy=False)
    log.debug(
        "generated %d transactions (seed=%d, drift=%s, %d noise features, %d positives)",
        n_rows,
        seed,
        drift,
        n_noise_features,
        int(label.sum()),
    )
    return frame


# The draws below happen in a fixed order, each from the next words of the stream, and
# every helper adds its terms to ``risk`` in place: the order of the calls and of the
# additions is part of the data (floating-point addition is not associative).


def _informative_columns(
    bits: np.random.PCG64, n: int, drift: bool
) -> tuple[dict[str, np.ndarray | pd.Categorical], np.ndarray]:
    """The ten informative columns, in frame order, and the latent risk they add up to."""
    merchant = exactrandom.choice(bits, n, _MERCHANT_MIX).astype(np.int8)
    channel = exactrandom.choice(bits, n, _CHANNEL_MIX[drift]).astype(np.int8)
    country = exactrandom.choice(bits, n, _COUNTRY_MIX[drift]).astype(np.int8)
    card_not_present = channel != CHANNELS.index("in_store")

    risk = _MERCHANT_RISK[merchant]
    risk += _CHANNEL_RISK[channel]
    risk += _CROSS_BORDER_RISK * (country != COUNTRIES.index(HOME_COUNTRY))

    cols: dict[str, np.ndarray | pd.Categorical] = {
        "amount": _amount(bits, n, drift, card_not_present, risk),
        "hour_of_day": _hour_of_day(bits, n, risk),
        "distance_from_home_km": _distance_from_home(bits, n, drift, risk),
        "account_age_days": _account_age(bits, n, drift, risk),
        "txn_count_24h": _txn_count(bits, n, drift, risk),
        "merchant_risk_score": _merchant_risk_score(bits, n, merchant, risk),
        "amount_to_avg_ratio": _amount_to_avg_ratio(bits, n, risk),
        "merchant_category": _categorical(merchant, MERCHANT_CATEGORIES),
        "channel": _categorical(channel, CHANNELS),
        "country": _categorical(country, COUNTRIES),
    }
    return cols, risk


def _amount(
    bits: np.random.PCG64, n: int, drift: bool, card_not_present: np.ndarray, risk: np.ndarray
) -> np.ndarray:
    """Log-normal amounts; large ones are riskier, more so when the card is not present."""
    log_amount = _normal(bits, n, 4.0 if drift else 3.6, 1.0 if drift else 0.9)
    amount = exactmath.exp(log_amount)
    z = log_amount - 3.6
    z /= 0.9
    risk += 0.7 * z
    np.maximum(z, 0.0, out=z)
    z *= card_not_present
    risk += 0.6 * z
    return amount


def _hour_of_day(bits: np.random.PCG64, n: int, risk: np.ndarray) -> np.ndarray:
    """Hours around mid-afternoon, wrapped to [0, 24); the small hours are riskier."""
    hour = _normal(bits, n, 14.0, 4.5)
    np.mod(hour, 24.0, out=hour)
    risk += 1.2 * (hour < 5.0)
    return hour


def _distance_from_home(bits: np.random.PCG64, n: int, drift: bool, risk: np.ndarray) -> np.ndarray:
    """Log-normal distances; risk grows with the log distance."""
    log_distance = _normal(bits, n, 2.0 if drift else 1.5, 1.2)
    distance = exactmath.exp(log_distance)
    log_distance -= 1.5
    log_distance *= 0.6 / 1.2
    risk += log_distance
    return distance


def _account_age(bits: np.random.PCG64, n: int, drift: bool, risk: np.ndarray) -> np.ndarray:
    """Erlang account ages in days; new accounts are riskier."""
    age = exactrandom.erlang(bits, n, 2, 250.0 if drift else 400.0)
    risk += 1.5 * exactmath.exp(age / -45.0)
    return age


def _txn_count(bits: np.random.PCG64, n: int, drift: bool, risk: np.ndarray) -> np.ndarray:
    """Poisson counts of the last day's transactions; bursts are riskier (capped at 12)."""
    count = exactrandom.poisson(bits, n, 4.0 if drift else 3.0)
    risk += 0.3 * np.minimum(count, 12.0)
    return count


def _merchant_risk_score(
    bits: np.random.PCG64, n: int, merchant: np.ndarray, risk: np.ndarray
) -> np.ndarray:
    """Beta(2, 6) scores in [0, 1], a little higher for gambling merchants."""
    score = exactrandom.beta(bits, n, 2, 6)
    score += 0.05 * (merchant == MERCHANT_CATEGORIES.index("gambling"))
    np.clip(score, 0.0, 1.0, out=score)
    risk += 3.0 * score
    return score


def _amount_to_avg_ratio(bits: np.random.PCG64, n: int, risk: np.ndarray) -> np.ndarray:
    """Log-normal ratio of the amount to the card's average; unusual amounts are riskier."""
    log_ratio = _normal(bits, n, 0.0, 0.5)
    ratio = exactmath.exp(log_ratio)
    risk += 1.6 * log_ratio
    return ratio


def _check_noise_features(n_noise_features: int) -> None:
    if (
        isinstance(n_noise_features, bool)
        or not isinstance(n_noise_features, int)
        or n_noise_features < 0
    ):
        raise DataError(f"n_noise_features must be an integer >= 0, got {n_noise_features!r}")


def _normal(bits: np.random.PCG64, n: int, mean: float, sd: float) -> np.ndarray:
    """``mean + sd * N(0, 1)``, portable."""
    values = exactrandom.standard_normal(bits, n)
    values *= sd
    values += mean
    return values


def _categorical(codes: np.ndarray, categories: tuple[str, ...]) -> pd.Categorical:
    """A categorical with a fixed category list, whatever codes occur."""
    return pd.Categorical.from_codes(codes, categories=list(categories))


def _n_positive(n_rows: int, positive_rate: float) -> int:
    """Positives to draw: the rounded expectation, keeping both classes when possible."""
    k = round(n_rows * positive_rate)
    if n_rows >= 2:
        k = min(max(k, 1), n_rows - 1)
    return k


def _top_k_mask(values: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` largest values; among ties at the cut, the earliest rows.

    Only the k-th largest *value* comes from a partition (unique whatever the algorithm),
    so the mask does not depend on how a SIMD selection orders equal values.
    """
    n = values.shape[0]
    if k <= 0:
        return np.zeros(n, dtype=bool)
    cut = np.partition(values, n - k)[n - k]
    mask = values > cut
    ties = np.flatnonzero(values == cut)
    mask[ties[: k - int(np.count_nonzero(mask))]] = True
    return mask
