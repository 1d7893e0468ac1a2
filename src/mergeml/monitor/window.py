"""The current data a check compares: a time window of the prediction log, or files.

The log is read day partition by day partition for the window's days only, and of each
part file only the columns asked for; rows are then cut to the window's exact times and
to one stage and model. ``--current PATH`` reads a CSV or Parquet file, or every such file
of a directory, again only the columns asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from mergeml.errors import MonitorError
from mergeml.serve.logread import unify
from mergeml.serve.logstore import PREDICTIONS, LogStore

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class Span:
    """A time window [start, end), both UTC."""

    start: datetime
    end: datetime

    def describe(self) -> str:
        return f"{_shown(self.start)} and {_shown(self.end)}"


def _shown(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") + " UTC"


def parse_moment(value: str, name: str) -> datetime:
    """An ISO date or datetime as a UTC datetime (a naive one is taken as UTC)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise MonitorError(
            f"{name} must be an ISO date or datetime (2026-11-30 or 2026-11-30T12:00), "
            f"not {value!r}"
        ) from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def window_span(
    since: str | None, until: str | None, days: int, now: datetime | None = None
) -> Span:
    """--since/--until; a missing start is ``days`` before the end, a missing end is now."""
    end = parse_moment(until, "--until") if until else (now or datetime.now(UTC))
    start = parse_moment(since, "--since") if since else end - timedelta(days=days)
    if start >= end:
        raise MonitorError(
            f"the window is empty: --since {_shown(start)} is not before {_shown(end)}"
        )
    return Span(start, end)


def _wanted(name: str, columns: Sequence[str]) -> bool:
    """Whether ``columns`` asks for ``name`` (``proba_*`` asks for every proba_ column)."""
    return any(name == c or (c.endswith("*") and name.startswith(c[:-1])) for c in columns)


def _read_parts(store: LogStore, span: Span, columns: Sequence[str]) -> list[pa.Table]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    last = (span.end - timedelta(microseconds=1)).date()
    for folder in store.partitions(PREDICTIONS, span.start.date(), last):
        for path in store.parts(folder):
            try:
                with store.fs.open(path, "rb") as handle:
                    part = pq.ParquetFile(handle)
                    wanted = [c for c in part.schema_arrow.names if _wanted(c, columns)]
                    tables.append(part.read(columns=wanted).replace_schema_metadata(None))
            except (OSError, pa.ArrowException) as exc:
                reason = " ".join(str(exc).split())
                raise MonitorError(
                    f"{store.display(path)}: unreadable part file ({reason})"
                ) from exc
    return tables


def log_window(
    url: str, span: Span, *, stage: str | None, md5: str | None, columns: Sequence[str]
) -> pd.DataFrame:
    """The logged predictions of ``stage`` (None: any) by the model ``md5`` (None: any) in
    ``span``: only ``columns`` (plus time, stage and model_md5; ``prefix*`` names every
    column starting with prefix) are read."""
    import pandas as pd

    store = LogStore.open(url)
    where = store.display(store.kind_dir(PREDICTIONS))
    needed = list(dict.fromkeys([*columns, "time", "stage", "model_md5"]))
    tables = _read_parts(store, span, needed)
    plain = [c for c in needed if not c.endswith("*")]
    frame = unify(tables).to_pandas() if tables else pd.DataFrame(columns=plain)
    times = pd.to_datetime(frame["time"], utc=True) if "time" in frame else None
    keep = pd.Series(times is not None, index=frame.index)
    if times is not None:
        keep &= (times >= pd.Timestamp(span.start)) & (times < pd.Timestamp(span.end))
    if stage is not None and "stage" in frame:
        keep &= frame["stage"] == stage
    frame = frame[keep]
    who = f"stage {stage}" if stage else "any stage"
    if frame.empty:
        raise MonitorError(f"no predictions for {who} between {span.describe()} in {where}")
    if md5 is not None:
        ours = frame["model_md5"] == md5
        if not ours.any():
            seen = ", ".join(sorted({str(m)[:12] for m in frame["model_md5"].unique()}))
            raise MonitorError(
                f"the {len(frame):,} predictions for {who} between {span.describe()} in "
                f"{where} were made by model md5 {seen}, not by {md5[:12]} whose reference "
                "profile this is: give the --stage or --rev of the model that served them"
            )
        frame = frame[ours]
    return frame.reset_index(drop=True)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
        if not found:
            raise MonitorError(f"{path}: the directory holds no .csv or .parquet file")
        return found
    if not path.is_file():
        raise MonitorError(f"{path}: no such file or directory")
    if path.suffix.lower() not in SUFFIXES:
        raise MonitorError(f"{path}: expected a .csv or .parquet file")
    return [path]


def _read_file(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    wanted = set(columns)
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, usecols=lambda c: c in wanted)
        names = pq.ParquetFile(path).schema_arrow.names
        return pq.read_table(path, columns=[c for c in names if c in wanted]).to_pandas()
    except (OSError, ValueError, pa.ArrowException, pd.errors.ParserError) as exc:
        raise MonitorError(f"{path}: unreadable ({' '.join(str(exc).split())})") from exc


def file_window(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """The rows of the CSV/Parquet file ``path`` (or of every one in a directory), only
    ``columns``; MonitorError naming the file that lacks one of them."""
    import pandas as pd

    frames = []
    for file in _files(path):
        frame = _read_file(file, columns)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise MonitorError(
                f"{file}: missing column(s) {', '.join(missing)} that the model takes"
            )
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if frame.empty:
        raise MonitorError(f"{path}: no rows")
    return frame
