"""The reference profile: what drift checks compare a window with, made at training time.

The `profile` stage writes it beside the model (``models/reference_profile.json``, a
git-tracked output), so a drift check never reads the training data. For each model input
(the input schema's columns) it records the row count, missing rate and unique count; for a
numeric column its min, max, mean, std, 1001 quantiles, the reference deciles as PSI bins
and a sample; for a categorical column (or a numeric one with few values) the count of each
value. It also holds the same numeric summary of the model's score on the test split:
the positive class's probability for a binary classifier, the largest class probability
for a multiclass one, the prediction for a regressor.
"""

from __future__ import annotations

import json
from posixpath import dirname, join
from typing import TYPE_CHECKING, Any

from mergeml.errors import DataError, ModelFileError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mergeml.config.monitor import DriftSettings

PROFILE_FORMAT = 1
PROFILE_FILE = "reference_profile.json"  # written in the model's directory
QUANTILES = 1001  # p = 0, 0.001, ..., 1
PSI_BINS = 10  # reference deciles
SAMPLE_ROWS = 1000  # a large column's plot sample
SAMPLE_SEED = 0
MAX_CATEGORIES = 1000  # most frequent values kept; the rest are counted in "other"
MAX_UNIQUE = 100_000  # "unique" is capped here
NUMERIC_DTYPES = ("int", "float")


def profile_path_for(model_path: str) -> str:
    """Where the profile of the model at ``model_path`` lives: beside it."""
    return join(dirname(model_path), PROFILE_FILE)


def sorted_quantiles(ordered: np.ndarray, count: int = QUANTILES) -> np.ndarray:
    """``count`` evenly spaced quantiles of sorted values (numpy's default, linear)."""
    import numpy as np

    positions = np.linspace(0.0, 1.0, count) * (len(ordered) - 1)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, len(ordered) - 1)
    frac = positions - low
    return ordered[low] + frac * (ordered[high] - ordered[low])


def bin_fractions(ordered: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """Share of sorted values in each bin cut by ``inner_edges`` (a value equal to an edge
    falls in the bin above it; the outer bins are open)."""
    import numpy as np

    below = np.searchsorted(ordered, inner_edges, side="left")
    counts = np.diff(np.concatenate(([0], below, [len(ordered)])))
    return counts / max(len(ordered), 1)


def finite_values(column: pd.Series) -> np.ndarray:
    """A numeric column's finite values as floats (missing and infinite ones dropped)."""
    import numpy as np
    import pandas as pd

    try:
        values = pd.to_numeric(column, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        first = next((v for v in column.dropna() if not _is_number(v)), None)
        raise DataError(
            f"column {column.name!r}: expected numbers, got {str(first)[:40]!r}"
        ) from exc
    return values[np.isfinite(values)]


def _is_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def value_key(value: object) -> str:
    """The string a value is counted under (1, 1.0 and True share no key across kinds,
    but 1 and 1.0 do)."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return str(bool(value))
    if isinstance(value, int | float) or hasattr(value, "is_integer"):
        number = float(value)  # type: ignore[arg-type]
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)


def value_counts(column: pd.Series) -> dict[str, int]:
    """Count of each non-missing value, keyed by `value_key`, most frequent first."""
    counts: dict[str, int] = {}
    for value, count in column.value_counts(dropna=True, sort=False).items():
        key = value_key(value)
        counts[key] = counts.get(key, 0) + int(count)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def numeric_counts(values: np.ndarray) -> dict[str, int]:
    """`value_counts` of a numeric column's finite values."""
    import numpy as np

    found: dict[str, int] = {}
    unique, counts = np.unique(values, return_counts=True)
    for value, count in zip(unique.tolist(), counts.tolist(), strict=True):
        key = value_key(value)
        found[key] = found.get(key, 0) + int(count)
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def numeric_summary(values: np.ndarray, *, full_sample: bool) -> dict[str, Any]:
    """min, max, mean, std (population, as Evidently), quantiles, PSI bins, sample."""
    import numpy as np

    ordered = np.sort(values)
    inner = np.unique(sorted_quantiles(ordered, PSI_BINS + 1)[1:-1])
    if full_sample or len(values) <= SAMPLE_ROWS:
        sample = values
    else:
        rng = np.random.default_rng(SAMPLE_SEED)
        sample = rng.choice(values, SAMPLE_ROWS, replace=False)
    return {
        "min": float(ordered[0]),
        "max": float(ordered[-1]),
        "mean": float(np.mean(values)),
        "std": float(np.std(values)),
        "quantiles": sorted_quantiles(ordered).tolist(),
        "psi_edges": inner.tolist(),
        "psi_fractions": bin_fractions(ordered, inner).tolist(),
        "sample": sample.tolist(),
    }


def _categories(counts: dict[str, int]) -> tuple[dict[str, int], int]:
    kept = dict(list(counts.items())[:MAX_CATEGORIES])
    return kept, sum(counts.values()) - sum(kept.values())


def column_profile(
    column: pd.Series, dtype: str, *, full_sample: bool, max_unique: int
) -> dict[str, Any]:
    """One column's entry; ``dtype`` is the input schema's kind."""
    rows = len(column)
    entry: dict[str, Any] = {"kind": "categorical", "dtype": dtype}
    values = finite_values(column) if dtype in NUMERIC_DTYPES else None
    present = len(values) if values is not None else int(column.notna().sum())
    entry["count"] = present
    entry["missing_rate"] = 1.0 - present / rows if rows else 0.0
    if values is not None:
        import numpy as np

        unique = len(np.unique(values))
        entry["unique"] = min(unique, MAX_UNIQUE)
        if present:
            entry["numeric"] = numeric_summary(values, full_sample=full_sample)
        if unique > max_unique:
            entry["kind"] = "numeric"
            return entry
    counts = numeric_counts(values) if values is not None else value_counts(column)
    frequencies, other = _categories(counts)
    entry.setdefault("unique", min(len(frequencies), MAX_UNIQUE))
    entry["frequencies"] = frequencies
    entry["other"] = other
    return entry


def build_profile(
    train: pd.DataFrame,
    schema: dict[str, Any],
    scores: np.ndarray | None,
    *,
    model_md5: str,
    settings: DriftSettings,
    score_name: str = "prediction",
) -> dict[str, Any]:
    """The profile of ``train``'s model inputs (the schema's columns) and of ``scores``
    (the model's score on the test split, named ``score_name`` as in the prediction log)."""
    import numpy as np

    rows = len(train)
    full = rows <= settings.small_reference_rows
    columns: dict[str, Any] = {}
    for spec in schema["columns"]:
        name = spec["name"]
        if name not in train.columns:
            raise DataError(f"training data has no column {name!r} of the input schema")
        columns[name] = column_profile(
            train[name], spec["dtype"], full_sample=full, max_unique=settings.categorical_max_unique
        )
    score = None
    if scores is not None:
        values = np.asarray(scores, dtype=float)
        score = column_profile(
            _series(values[np.isfinite(values)], score_name),
            "float",
            full_sample=len(values) <= settings.small_reference_rows,
            max_unique=settings.categorical_max_unique,
        )
        score["name"] = score_name
    return {
        "format": PROFILE_FORMAT,
        "model_md5": model_md5,
        "target": schema.get("target"),
        "rows": rows,
        "columns": columns,
        "score": score,
    }


def _series(values: np.ndarray, name: str) -> pd.Series:
    import pandas as pd

    return pd.Series(values, name=name)


def model_scores(model: Any, features: pd.DataFrame) -> tuple[str, np.ndarray]:
    """The model's score on ``features`` and its prediction-log column: ``proba_<class>``
    of the second class for a binary classifier, ``max_proba`` for a multiclass one,
    ``prediction`` for a regressor."""
    classes = getattr(model, "classes_", None)
    if classes is None or not hasattr(model, "predict_proba"):
        return "prediction", model.predict(features).astype(float)
    proba = model.predict_proba(features)
    if len(classes) == 2:
        return f"proba_{classes[1]}", proba[:, 1]
    return "max_proba", proba.max(axis=1)


def profile_text(profile: dict[str, Any]) -> str:
    """The file's text: compact JSON (large lists), one line per column, final newline."""
    head = {k: v for k, v in profile.items() if k not in ("columns", "score")}
    parts = [json.dumps(head, allow_nan=False)[:-1], ', "columns": {']
    entries = [
        f"\n  {json.dumps(name)}: {json.dumps(entry, allow_nan=False)}"
        for name, entry in profile["columns"].items()
    ]
    parts.append(",".join(entries))
    parts.append('\n}, "score": ' + json.dumps(profile.get("score"), allow_nan=False) + "}\n")
    return "".join(parts)


def read_profile(text: str, where: str) -> dict[str, Any]:
    """The profile in ``text`` (from ``where``), checked; a bad file -> ModelFileError."""
    from mergeml.evaluation.profile_check import problem_in

    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{where} is not a reference profile: not JSON ({exc})") from exc
    problem = problem_in(doc)
    if problem:
        raise ModelFileError(f"{where} is not a reference profile this version reads: {problem}")
    return dict(doc)
