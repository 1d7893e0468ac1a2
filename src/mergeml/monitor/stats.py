"""Drift of a window of current data against a reference profile, feature by feature.

The method follows Evidently's defaults: with a reference of at most
``small_reference_rows`` rows, KS for a numeric column (more than
``categorical_max_unique`` values), chi-squared for a categorical one, a z-test for two
values, drift at p < ``p_value``; beyond, the normed Wasserstein distance (numeric) and
the Jensen-Shannon distance (categorical), drift at or above ``distance_threshold``. A
feature with fewer than ``min_rows`` current values is "not enough data", never drift.
Each column is read once and sorted once; the frame is never copied.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mergeml.errors import DataError
from mergeml.evaluation.profile import NUMERIC_DTYPES, finite_values, numeric_counts, value_counts
from mergeml.monitor import methods

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mergeml.config.monitor import DriftSettings


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's verdict (``drifted`` None: not enough data to judge)."""

    column: str
    kind: str  # "numeric" | "categorical"
    method: str  # "ks" | "chisquare" | "z" | "wasserstein" | "jensenshannon"
    statistic: float | None
    p_value: float | None  # tests only (BH-adjusted when correction is "bh")
    threshold: float
    drifted: bool | None
    psi: float | None
    psi_band: str | None  # "stable" | "moderate" | "significant"
    n_reference: int
    n_current: int
    missing_ref: float
    missing_cur: float
    out_of_range: float  # share of current numeric values outside the reference [min, max]
    unknown_categories: float  # share of current values the reference never saw
    reason: str


@dataclass(frozen=True)
class DriftResult:
    features: tuple[FeatureDrift, ...]
    score: FeatureDrift | None  # prediction (score) drift
    drifted_share: float  # of the features with enough data
    dataset_drift: bool
    n_current: int
    correction: str


@dataclass(frozen=True)
class _Ctx:
    settings: DriftSettings
    small: bool  # the reference is small: tests, not distances


def _base(name: str, entry: dict[str, Any], column: pd.Series, present: int) -> dict[str, Any]:
    rows = len(column)
    return {
        "column": name,
        "kind": entry["kind"],
        "n_reference": int(entry["count"]),
        "n_current": present,
        "missing_ref": float(entry["missing_rate"]),
        "missing_cur": 1.0 - present / rows if rows else 0.0,
    }


def _out_of_range(entry: dict[str, Any], ordered: np.ndarray) -> float:
    import numpy as np

    summary = entry.get("numeric")
    if summary is None or not len(ordered):
        return 0.0
    low = np.searchsorted(ordered, summary["min"], side="left")
    high = len(ordered) - np.searchsorted(ordered, summary["max"], side="right")
    return float((low + high) / len(ordered))


def _verdict(method: str, value: float, p: float | None, ctx: _Ctx) -> dict[str, Any]:
    settings = ctx.settings
    if p is not None:
        drifted = p < settings.p_value
        sign = "<" if drifted else ">="
        reason = f"{method} p={p:.3g} {sign} {settings.p_value:g}"
        threshold = settings.p_value
    else:
        drifted = value >= settings.distance_threshold
        sign = ">=" if drifted else "<"
        reason = f"{method} {value:.3g} {sign} {settings.distance_threshold:g}"
        threshold = settings.distance_threshold
    return {
        "method": method,
        "statistic": value,
        "p_value": p,
        "threshold": threshold,
        "drifted": drifted,
        "reason": reason + (": drift" if drifted else ": no drift"),
    }


def _numeric(entry: dict[str, Any], ordered: np.ndarray, ctx: _Ctx) -> dict[str, Any]:
    import numpy as np

    summary = entry["numeric"]
    if ctx.small:
        value, p = methods.ks(np.asarray(summary["sample"], dtype=float), ordered)
        found = _verdict("ks", value, p, ctx)
    else:
        found = _verdict("wasserstein", methods.wasserstein_normed(summary, ordered), None, ctx)
    psi = methods.numeric_psi(summary, ordered)
    return {**found, "psi": psi, "unknown_categories": 0.0}


def _categorical(entry: dict[str, Any], counts: dict[str, int], ctx: _Ctx) -> dict[str, Any]:
    reference = entry["frequencies"]
    if ctx.small and len(reference.keys() | counts.keys()) <= 2:
        found = _verdict("z", *methods.ztest(reference, counts), ctx)
    elif ctx.small:
        found = _verdict("chisquare", *methods.chisquare(reference, counts), ctx)
    else:
        found = _verdict("jensenshannon", methods.jensenshannon(reference, counts), None, ctx)
    unknown = sum(c for k, c in counts.items() if k not in reference)
    psi = methods.categorical_psi(reference, counts)
    return {**found, "psi": psi, "unknown_categories": unknown / max(sum(counts.values()), 1)}


def _undecided(base: dict[str, Any], reason: str, ctx: _Ctx) -> FeatureDrift:
    method = "ks" if base["kind"] == "numeric" else "chisquare"
    if not ctx.small:
        method = "wasserstein" if base["kind"] == "numeric" else "jensenshannon"
    return FeatureDrift(
        **base,
        method=method,
        statistic=None,
        p_value=None,
        threshold=ctx.settings.p_value if ctx.small else ctx.settings.distance_threshold,
        drifted=None,
        psi=None,
        psi_band=None,
        out_of_range=0.0,
        unknown_categories=0.0,
        reason=reason,
    )


def feature_drift(name: str, entry: dict[str, Any], column: pd.Series, ctx: _Ctx) -> FeatureDrift:
    """One column's drift against its profile entry."""
    import numpy as np

    numeric = entry["dtype"] in NUMERIC_DTYPES
    ordered = np.sort(finite_values(column)) if numeric else np.empty(0)
    counts: dict[str, int] = {}
    if entry["kind"] == "categorical":
        counts = numeric_counts(ordered) if numeric else value_counts(column)
        if entry["dtype"] == "bool":
            counts = _as_bool(counts)
    present = len(ordered) if numeric else sum(counts.values())
    base = _base(name, entry, column, present)
    minimum = ctx.settings.min_rows
    if present < minimum:
        return _undecided(base, f"not enough data (n={present} < min_rows={minimum})", ctx)
    if not entry["count"]:
        return _undecided(base, "no reference values (missing in all training rows)", ctx)
    if entry["kind"] == "numeric":
        found = _numeric(entry, ordered, ctx)
    else:
        found = _categorical(entry, counts, ctx)
    band = methods.psi_band(found["psi"], ctx.settings.psi_bands)
    return FeatureDrift(**base, **found, psi_band=band, out_of_range=_out_of_range(entry, ordered))


BOOL_KEYS = {"1": "True", "0": "False", "true": "True", "false": "False"}


def _as_bool(counts: dict[str, int]) -> dict[str, int]:
    """A bool column's counts whatever way the window spells it (1/0, true/false)."""
    found: dict[str, int] = {}
    for key, count in counts.items():
        named = BOOL_KEYS.get(key.lower(), key)
        found[named] = found.get(named, 0) + count
    return found


def _corrected(features: list[FeatureDrift], settings: DriftSettings) -> list[FeatureDrift]:
    """Benjamini-Hochberg over the features' p-values (tests only)."""
    from scipy import stats

    tested = [i for i, f in enumerate(features) if f.p_value is not None]
    if not tested:
        return features
    adjusted = stats.false_discovery_control([features[i].p_value for i in tested], method="bh")
    out = list(features)
    for i, p in zip(tested, adjusted.tolist(), strict=True):
        drifted = p < settings.p_value
        sign = "<" if drifted else ">="
        reason = f"{out[i].method} BH-adjusted p={p:.3g} {sign} {settings.p_value:g}"
        reason += ": drift" if drifted else ": no drift"
        out[i] = replace(out[i], p_value=float(p), drifted=drifted, reason=reason)
    return out


def drift(
    profile: dict[str, Any],
    current: pd.DataFrame,
    settings: DriftSettings,
    scores: np.ndarray | None = None,
) -> DriftResult:
    """Drift of ``current`` (its columns not in the profile are ignored) and, given the
    model's ``scores`` on it, of the score. A profile column absent -> DataError."""
    import pandas as pd

    columns: dict[str, Any] = profile["columns"]
    absent = [name for name in columns if name not in current.columns]
    if absent:
        shown = ", ".join(repr(n) for n in absent[:5])
        raise DataError(f"the current data has no column {shown} of the reference profile")
    ctx = _Ctx(settings, int(profile["rows"]) <= settings.small_reference_rows)
    features = [feature_drift(name, e, current[name], ctx) for name, e in columns.items()]
    if settings.correction == "bh":
        features = _corrected(features, settings)
    score = None
    if scores is not None and profile.get("score"):
        column = pd.Series(scores, name="score", dtype=float)
        score = feature_drift("score", {**profile["score"], "dtype": "float"}, column, ctx)
    judged = [f for f in features if f.drifted is not None]
    share = sum(1 for f in judged if f.drifted) / len(judged) if judged else 0.0
    return DriftResult(
        features=tuple(features),
        score=score,
        drifted_share=share,
        dataset_drift=bool(judged) and share >= settings.dataset_share,
        n_current=len(current),
        correction=settings.correction,
    )
