"""`mergeml monitor drift`: the current window against the model's reference profile.

Only the profile's columns (the model's inputs) are compared: a target, ids and the log's
own columns are ignored. The verdict is "drift" when the dataset drifted (at least the
configured share of features) or the model's scores drifted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.errors import MonitorError
from mergeml.monitor.target import MonitorTarget
from mergeml.monitor.window import Span, file_window, log_window

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mergeml.monitor.stats import DriftResult

NUMERIC_DTYPES = ("int", "float")  # the input schema's numeric kinds
MAX_PROBA = "max_proba"


@dataclass(frozen=True)
class DriftReport:
    target: MonitorTarget
    source: str  # "logs/predictions, stage production, 2026-11-23 ... 2026-11-30" or a path
    result: DriftResult
    share_limit: float  # the dataset-drift share of the settings

    @property
    def score_drifted(self) -> bool:
        return bool(self.result.score is not None and self.result.score.drifted)

    @property
    def drifted(self) -> bool:
        """Dataset drift or prediction (score) drift: what exit 1 means."""
        return bool(self.result.dataset_drift) or self.score_drifted


def profile_columns(profile: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The profile's columns by name (a mapping, or a list of entries with a "name")."""
    columns = profile.get("columns")
    if isinstance(columns, Mapping):
        return {str(k): dict(v) for k, v in columns.items()}
    if isinstance(columns, list):
        return {str(c["name"]): dict(c) for c in columns if isinstance(c, Mapping)}
    raise MonitorError("the reference profile lists no columns")


def score_column(profile: Mapping[str, Any]) -> str | None:
    """The logged column the profile's score distribution describes (None: no score):
    ``proba_<class>``, ``prediction``, or ``max_proba`` (the largest ``proba_`` column)."""
    score = profile.get("score")
    if not isinstance(score, Mapping):
        return None
    name = score.get("name")
    return str(name) if name else None


def _scores(frame: pd.DataFrame, name: str | None) -> np.ndarray | None:
    import pandas as pd

    if name is None:
        return None
    if name == MAX_PROBA and name not in frame:
        proba = [c for c in frame.columns if str(c).startswith("proba_")]
        return frame[proba].to_numpy(dtype=float).max(axis=1) if proba else None
    if name not in frame:
        return None
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def check_types(frame: pd.DataFrame, columns: Mapping[str, Mapping[str, Any]], where: str) -> None:
    """MonitorError naming a numeric column that holds text (its first bad value and row)."""
    import pandas as pd

    for name, entry in columns.items():
        if entry.get("dtype") not in NUMERIC_DTYPES or name not in frame:
            continue
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        converted = pd.to_numeric(values, errors="coerce")
        bad = converted.isna() & values.notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise MonitorError(
                f"{where}: column {name} must hold numbers (it did in training), found "
                f"{int(bad.sum()):,} other values, the first {str(values.iloc[row])[:40]!r} "
                f"at row {row}"
            )
        frame[name] = converted


def _needed(profile: Mapping[str, Any]) -> list[str]:
    score = score_column(profile)
    extra = ["proba_*"] if score == MAX_PROBA else [score] if score else []
    return [*profile_columns(profile), *extra]


def read_current(
    target: MonitorTarget, *, current: Path | None, log_url: str | None, span: Span
) -> tuple[pd.DataFrame, str]:
    """The current frame (only the needed columns) and a description of where it is from."""
    features = list(profile_columns(target.profile))
    if current is not None:
        return file_window(current, features), str(current)
    if log_url is None:
        raise MonitorError("the prediction log is off: give --log URL or --current PATH")
    frame = log_window(
        log_url, span, stage=target.stage, md5=target.md5, columns=_needed(target.profile)
    )
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise MonitorError(
            f"the logged predictions lack column(s) {', '.join(missing)} of the reference profile"
        )
    who = f"stage {target.stage}, " if target.stage else ""
    return frame, f"{log_url} ({who}{span.describe().replace(' and ', ' to ')})"


def check_drift(
    target: MonitorTarget, frame: pd.DataFrame, source: str, settings: Any
) -> DriftReport:
    """Compare ``frame`` with the target's profile under ``settings`` (the drift section)."""
    from mergeml.monitor.stats import drift

    columns = profile_columns(target.profile)
    check_types(frame, columns, source)
    scores = _scores(frame, score_column(target.profile))
    result = drift(target.profile, frame[list(columns)], settings, scores=scores)
    return DriftReport(target, source, result, float(settings.dataset_share))
