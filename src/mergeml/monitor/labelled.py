"""The newly labelled data of a window: logged predictions joined to their feedback
labels, as training rows (the model's input columns and the target column)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mergeml.errors import MonitorError
from mergeml.monitor.performance import join_feedback
from mergeml.monitor.window import Span, log_window
from mergeml.serve.logread import read_log

if TYPE_CHECKING:
    from datetime import datetime

    import pandas as pd

LOGGED_AT = "__logged_at"  # when each row was predicted; dropped before the rows are written


def _typed(labels: pd.Series) -> pd.Series:
    """Labels as numbers when every one is a number ("1" -> 1), else as they are."""
    import pandas as pd

    numbers = pd.to_numeric(labels, errors="coerce")
    if numbers.notna().all():
        whole = (numbers == numbers.round()).all()
        return numbers.astype("int64") if whole else numbers.astype(float)
    return labels


def labelled_rows(
    url: str,
    span: Span,
    *,
    stage: str | None,
    md5: str | None,
    features: Sequence[str],
    target: str,
) -> pd.DataFrame:
    """The window's predictions that got a label: ``features`` plus ``target`` (the label),
    and when each was predicted (:data:`LOGGED_AT`, for :func:`rows_after`)."""
    columns = ["request_id", "row", "prediction", *features]
    predictions = log_window(url, span, stage=stage, md5=md5, columns=columns)
    feedback = read_log(url, span.start, None, kind="feedback")
    joined = join_feedback(predictions, feedback)
    missing = [c for c in features if c not in joined.columns]
    if missing:
        raise MonitorError(f"the logged predictions lack model input(s) {', '.join(missing)}")
    rows = joined[list(features)].copy()
    rows[target] = _typed(joined["label"]) if len(joined) else joined["label"]
    rows[LOGGED_AT] = joined["time"]
    return rows.reset_index(drop=True)


def rows_after(rows: pd.DataFrame, since: datetime | None) -> pd.DataFrame:
    """The rows predicted at or after ``since`` (all when None), without :data:`LOGGED_AT`:
    windows overlap, and a row already added to a retraining branch is not added again."""
    import pandas as pd

    if since is not None and LOGGED_AT in rows:
        rows = rows[pd.to_datetime(rows[LOGGED_AT], utc=True) >= pd.Timestamp(since)]
    return rows.drop(columns=[LOGGED_AT], errors="ignore").reset_index(drop=True)


def write_rows(rows: pd.DataFrame, path: Path) -> None:
    """Write ``rows`` as Parquet at ``path`` (deterministic: no index, no pandas metadata)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(rows, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, path)
