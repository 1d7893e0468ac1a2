"""Where tables come from: scikit-learn's shipped datasets and user CSV/Parquet files."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

import pandas as pd

from mergeml.errors import DataError, one_line

log = logging.getLogger(__name__)

TARGET = "target"
_SUFFIXES: dict[str, Literal["csv", "parquet"]] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_MAX_REASON = 200


def snake_case(name: str) -> str:
    """``'mean concave points'`` -> ``'mean_concave_points'``: a clean identifier."""
    cleaned = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    if not cleaned:
        raise DataError(f"column name {name!r} has no letters or digits")
    return f"_{cleaned}" if cleaned[0].isdigit() else cleaned


def load_breast_cancer_frame() -> pd.DataFrame:
    """Wisconsin breast cancer (569 rows, 30 float features); ``target`` 0=malignant, 1=benign."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    return _with_target(bunch.data, bunch.target.astype("int64"))


def load_diabetes_frame() -> pd.DataFrame:
    """Diabetes progression (442 rows, 10 unscaled float features); ``target`` float64."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True, scaled=False)
    return _with_target(bunch.data, bunch.target.astype("float64"))


def _with_target(features: pd.DataFrame, target: pd.Series) -> pd.DataFrame:
    frame = features.rename(columns=snake_case)
    if frame.columns.has_duplicates or TARGET in frame.columns:
        raise DataError("feature names collide after conversion to snake_case")
    frame[TARGET] = target.to_numpy()
    return frame.reset_index(drop=True)


def read_table(path: Path, *, fmt: Literal["auto", "csv", "parquet"] = "auto") -> pd.DataFrame:
    """Read a CSV or Parquet file (by suffix when ``fmt='auto'``) into a DataFrame.

    A missing file, an unknown suffix or content that cannot be parsed raises DataError.
    """
    path = Path(path)
    if fmt == "auto":
        detected = _SUFFIXES.get(path.suffix.lower())
        if detected is None:
            known = ", ".join(_SUFFIXES)
            raise DataError(
                f"cannot tell the format of {path} from its suffix {path.suffix!r} "
                f"(expected one of {known}, or set the format explicitly)"
            )
        fmt = detected
    elif fmt not in ("csv", "parquet"):
        raise DataError(f"unknown data format {fmt!r} for {path} (expected csv or parquet)")
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    if not path.is_file():
        raise DataError(f"data path is not a file: {path}")
    try:
        frame = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        # ParserError, EmptyDataError, UnicodeDecodeError and pyarrow's ArrowInvalid are
        # ValueErrors; ArrowIOError and permission problems are OSErrors.
        reason = one_line(str(exc))[:_MAX_REASON] or type(exc).__name__
        raise DataError(f"cannot read {path} as {fmt}: {reason}") from exc
    log.debug("read %d rows x %d columns from %s", len(frame), frame.shape[1], path)
    return frame
