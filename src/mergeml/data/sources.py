"""Where tables come from: scikit-learn's shipped datasets and user CSV/Parquet files."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
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
_CHUNK = 1 << 20
_SNIFF = 1 << 16  # how much of a CSV file is looked at for binary content
_BINARY_MAGIC = {
    b"PAR1": "a Parquet file (use a .parquet suffix or data.format: parquet)",
    b"PK\x03\x04": "a zip archive (an Excel workbook?), not CSV text",
    b"\x1f\x8b": "gzip-compressed, not CSV text",
}


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
    if fmt == "csv":
        _require_text(path)
    try:
        frame = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        # ParserError, EmptyDataError, UnicodeDecodeError and pyarrow's ArrowInvalid are
        # ValueErrors; ArrowIOError and permission problems are OSErrors.
        reason = one_line(str(exc))[:_MAX_REASON] or type(exc).__name__
        raise DataError(f"cannot read {path} as {fmt}: {reason}") from exc
    log.debug("read %d rows x %d columns from %s", len(frame), frame.shape[1], path)
    return frame


def _require_text(path: Path) -> None:
    """DataError when ``path`` starts like a binary file: CSV is text, without NUL bytes.

    pandas would read such a file into column names full of control bytes, or fail on
    line N with a tokenizer message that says nothing about the real problem.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {one_line(exc.strerror or str(exc))}") from exc
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise DataError(f"cannot read {path} as csv: it is {what}")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise DataError(
            f"cannot read {path} as csv: it holds a NUL byte at offset {nul}, so it is "
            "binary data, not CSV text (a UTF-16 file? save it as UTF-8)"
        )


def source_path(root: Path, rel: str) -> Path:
    """``root / rel``, refused when it resolves (through symlinks) outside ``root``."""
    path = root / rel
    if not path.resolve().is_relative_to(root.resolve()):
        raise DataError(
            f"data.path {rel} resolves outside the repository (through a symlink): "
            "it cannot be reproduced; copy the file under data/raw/ instead"
        )
    return path


def dvc_file(root: Path, rel: str) -> Path | None:
    """The `.dvc` file beside ``rel`` or beside one of its parent directories, or None."""
    parts = PurePosixPath(rel).parts
    for depth in range(len(parts), 0, -1):
        candidate = root.joinpath(*parts[:depth]).with_name(parts[depth - 1] + ".dvc")
        if candidate.is_file():
            return candidate
    return None


def require_tracked(root: Path, rel: str, is_tracked: Callable[[Path], bool]) -> None:
    """DataError unless the data file ``rel`` exists and git or DVC tracks it.

    A file tracked by neither is missing from a clean clone and from the temporary
    copies `mergeml exp run` trains in. ``is_tracked`` tells whether git tracks a path.
    """
    path = source_path(root, rel)
    tracker = dvc_file(root, rel)
    if not path.exists():
        hint = f" (tracked by DVC: run `dvc pull {_rel(tracker, root)}`)" if tracker else ""
        raise DataError(f"data file not found: {rel}{hint}")
    if tracker is None and not is_tracked(path):
        raise DataError(
            f"data file {rel} is not tracked by git or DVC: run `dvc add {rel}` (or "
            "`git add` it) so that a clean clone and `mergeml exp run` can see it"
        )


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def file_record(root: Path, rel: str) -> dict[str, str | int]:
    """``{"path", "md5", "size"}`` of a data file: what the reports record of the source."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with source_path(root, rel).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"path": PurePosixPath(rel).as_posix(), "md5": digest.hexdigest(), "size": size}
