"""The per-feature drift methods, each on a profile entry and the current values.

Evidently's defaults, so the numbers are familiar: two-sample KS, chi-squared with the
reference frequencies as expected counts, a two-proportion z-test, the Wasserstein
distance normed by the reference std (here from the stored 1001 quantiles, so the
training data is never read) and the Jensen-Shannon distance (scipy's, natural log, as
Evidently calls it). PSI uses the reference deciles as bins, an empty bin counting 0.0001.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mergeml.evaluation.profile import QUANTILES, bin_fractions, sorted_quantiles

if TYPE_CHECKING:
    import numpy as np

PSI_FLOOR = 1e-4  # an empty bin's share in PSI (Evidently's choice)
STD_FLOOR = 1e-3  # the normed Wasserstein distance divides by max(std, this)


def ks(sample: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov (statistic, p-value), scipy's exact/asymptotic choice."""
    from scipy import stats

    result = stats.ks_2samp(sample, current)
    return float(result.statistic), float(result.pvalue)


def chisquare(reference: dict[str, int], current: dict[str, int]) -> tuple[float, float]:
    """Chi-squared of the current counts against the reference frequencies scaled to the
    current total. A value never seen in the reference gives p = 0 (infinitely unlikely)."""
    import numpy as np
    from scipy import stats

    keys = list(reference.keys() | current.keys())
    ref = np.array([reference.get(k, 0) for k in keys], dtype=float)
    cur = np.array([current.get(k, 0) for k in keys], dtype=float)
    if np.any((ref == 0) & (cur > 0)):
        return float("inf"), 0.0
    expected = ref * cur.sum() / ref.sum()
    kept = expected > 0
    result = stats.chisquare(cur[kept], expected[kept])
    return float(result.statistic), float(result.pvalue)


def ztest(reference: dict[str, int], current: dict[str, int]) -> tuple[float, float]:
    """Two-proportion z-test (pooled variance, two-sided) for at most two values."""
    import numpy as np
    from scipy import stats

    keys = sorted(reference.keys() | current.keys())
    n1, n2 = sum(reference.values()), sum(current.values())
    p1 = reference.get(keys[0], 0) / n1
    p2 = current.get(keys[0], 0) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    spread = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if spread <= 0.0:  # one value on both sides
        return 0.0, 1.0
    z = (p1 - p2) / float(np.sqrt(spread))
    return z, float(2.0 * stats.norm.sf(abs(z)))


def wasserstein_normed(summary: dict[str, Any], ordered: np.ndarray) -> float:
    """W1 between the reference and sorted current values, from 1001 quantiles of each
    (the integral of |F^-1 - G^-1| by the trapezoid rule), over the reference std."""
    import numpy as np

    ref = np.asarray(summary["quantiles"], dtype=float)
    gap = np.abs(ref - sorted_quantiles(ordered, QUANTILES))
    distance = float((gap[1:] + gap[:-1]).sum() / (2 * (QUANTILES - 1)))
    return distance / max(float(summary["std"]), STD_FLOOR)


def jensenshannon(reference: dict[str, int], current: dict[str, int]) -> float:
    """Jensen-Shannon distance of the two value distributions (natural log)."""
    import numpy as np
    from scipy.spatial import distance

    keys = list(reference.keys() | current.keys())
    ref = np.array([reference.get(k, 0) for k in keys], dtype=float)
    cur = np.array([current.get(k, 0) for k in keys], dtype=float)
    return float(distance.jensenshannon(ref / ref.sum(), cur / cur.sum()))


def psi_value(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors (empty shares count PSI_FLOOR)."""
    import numpy as np

    ref = np.where(expected > 0, expected, PSI_FLOOR)
    cur = np.where(actual > 0, actual, PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def numeric_psi(summary: dict[str, Any], ordered: np.ndarray) -> float:
    import numpy as np

    edges = np.asarray(summary["psi_edges"], dtype=float)
    expected = np.asarray(summary["psi_fractions"], dtype=float)
    return psi_value(expected, bin_fractions(ordered, edges))


def categorical_psi(reference: dict[str, int], current: dict[str, int]) -> float:
    import numpy as np

    keys = list(reference.keys() | current.keys())
    ref = np.array([reference.get(k, 0) for k in keys], dtype=float)
    cur = np.array([current.get(k, 0) for k in keys], dtype=float)
    return psi_value(ref / ref.sum(), cur / cur.sum())


def psi_band(psi: float | None, bands: tuple[float, float]) -> str | None:
    if psi is None:
        return None
    if psi < bands[0]:
        return "stable"
    return "moderate" if psi < bands[1] else "significant"
