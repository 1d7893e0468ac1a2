"""The prediction log: every scored request, and its feedback, written in the background.

`PredictionLog.record` (and `record_feedback`) only append to an in-memory buffer under a
lock; a thread writes the buffer every ``flush_seconds`` (sooner when it holds a quarter
of ``max_buffer_rows``) as Parquet part files (`mergeml.serve.logstore`), one per day,
kind and set of columns. A write that fails keeps its rows for the next flush; past
``max_buffer_rows`` buffered rows the oldest are dropped and counted. `close` writes what
is left; rows it cannot write within its timeout are counted dropped and said in one
warning. ``on_event(kind, n)`` reports ``("written", rows)``, ``("dropped", rows)`` and
``("failed", 1)`` per failed write (the server turns them into Prometheus counters); it is
called from the writer thread, and from `record` for drops, and must be quick.

Create the log in the process that serves (after any fork): the thread does not survive
one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from mergeml.serve.columns import Columns, as_columns, length
from mergeml.serve.logstore import FEEDBACK, PREDICTIONS, LogStore
from mergeml.serve.logtables import Scored, feedback_table, prediction_table, signature, utc

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

WRITTEN, DROPPED, FAILED = "written", "dropped", "failed"
_RETRY_SECONDS = 0.2  # between attempts of the final flush


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str
    rows: int
    item: Any  # Scored, or a feedback frame with its arrival time


class PredictionLog:
    """A buffered, background writer of predictions and feedback under one log root."""

    def __init__(
        self,
        url: str,
        *,
        flush_seconds: float = 5.0,
        max_buffer_rows: int = 200_000,
        on_event: Callable[[str, int], None] | None = None,
    ) -> None:
        self.store = LogStore.open(url)  # PredictionLogError for a URL nothing can serve
        self.url = url
        self.flush_seconds = flush_seconds
        self.max_buffer_rows = max(1, max_buffer_rows)
        self._soon_rows = max(1, self.max_buffer_rows // 4)
        self._on_event = on_event
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time
        self._pending: deque[_Entry] = deque()
        self._rows = 0  # buffered
        self._writing = 0  # taken by the writer, not yet written
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._deadline = 0.0
        self._closed = False
        self._thread: threading.Thread | None = None
        self._last_error = ""

    # The request side: cheap, never blocks on the sink, never raises.

    def record(
        self,
        request_id: str,
        received: datetime,
        model: Mapping[str, str],
        inputs: Columns | pd.DataFrame,
        outputs: Columns | pd.DataFrame,
    ) -> None:
        """Log one scored request: its input and output columns (`mergeml.serve.columns`,
        or DataFrames), kept as they are until written: do not change them."""
        try:
            given, made = as_columns(inputs), as_columns(outputs)
        except Exception:  # neither columns nor frames
            log.debug("prediction log: not columns", exc_info=True)
            self._emit(DROPPED, _size(inputs))
            return
        try:
            rows = length(given)
            if rows != length(made):
                self._emit(DROPPED, rows)
                return
            self._add(_Entry(PREDICTIONS, rows, Scored(request_id, received, model, given, made)))
        except Exception:
            log.debug("prediction log: record failed", exc_info=True)

    def record_feedback(self, feedback: pd.DataFrame) -> None:
        """Log feedback rows: ``request_id``, ``label``, optional ``row`` and ``time``."""
        try:
            self._add(_Entry(FEEDBACK, len(feedback), (feedback, datetime.now(UTC))))
        except Exception:
            log.debug("prediction log: record_feedback failed", exc_info=True)

    def _add(self, entry: _Entry) -> None:
        if entry.rows == 0:
            return
        with self._lock:
            if self._closed or entry.rows > self.max_buffer_rows:
                dropped = entry.rows
            else:
                self._pending.append(entry)
                self._rows += entry.rows
                dropped = self._trim()
            soon = self._rows >= self._soon_rows
        if soon:
            self._wake.set()
        if dropped:
            self._emit(DROPPED, dropped)

    def _trim(self) -> int:
        """Drop the oldest entries beyond the buffer's bound (the lock held); rows dropped."""
        dropped = 0
        while self._rows > self.max_buffer_rows and self._pending:
            oldest = self._pending.popleft()
            self._rows -= oldest.rows
            dropped += oldest.rows
        return dropped

    def _emit(self, event: str, rows: int) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event, rows)
        except Exception:
            log.debug("prediction log: on_event failed", exc_info=True)

    # The writer side.

    def start(self) -> None:
        """Start the background writer (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="mergeml-prediction-log", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            if self._stop.is_set():
                break
            if not self._flush_safely():
                self._stop.wait(self.flush_seconds)  # a failing sink: no faster retries
        self._drain()

    def _flush_safely(self) -> bool:
        """`flush`, with a bug in it logged rather than ending the writer thread."""
        try:
            return self.flush()
        except Exception:
            log.exception("mergeml: prediction log: the writer failed")
            return False

    def _drain(self) -> None:
        """Write what is buffered, retrying until the deadline `close` set."""
        while self.pending_rows() and not self._flush_safely():
            left = self._deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(_RETRY_SECONDS, left))

    def pending_rows(self) -> int:
        with self._lock:
            return self._rows

    def flush(self) -> bool:
        """Write everything buffered now; False when a write failed (its rows are kept)."""
        with self._flushing:
            return self._flush()

    def _flush(self) -> bool:
        with self._lock:
            taken = list(self._pending)
            self._pending.clear()
            self._writing = self._rows
            self._rows = 0
        groups = _groups(taken)
        for i, (key, entries) in enumerate(groups):
            if not self._write_group(key, entries):
                self._put_back([e for _, rest in groups[i:] for e in rest])
                return False
            with self._lock:
                self._writing -= sum(e.rows for e in entries)
        return True

    def _write_group(self, key: tuple[Any, ...], entries: list[_Entry]) -> bool:
        """Write one group as a part file; False when the sink failed (rows kept)."""
        kind, day = key[0], key[1]
        rows = sum(e.rows for e in entries)
        try:
            if day is None:
                raise ValueError("not data frames with a time of receipt")
            table = _table(kind, entries)
        except Exception as exc:
            log.warning("prediction log: %d %s rows dropped: %s", rows, kind, exc)
            self._emit(DROPPED, rows)
            return True
        try:
            self.store.write_part(kind, day, table)
        except Exception as exc:
            if not self._last_error:  # the first failure of a run of them: say it once
                log.warning("mergeml: prediction log: cannot write to %s: %s", self.url, exc)
            self._last_error = " ".join(str(exc).split()) or type(exc).__name__
            log.debug("prediction log: write to %s failed", self.url, exc_info=True)
            self._emit(FAILED, 1)
            return False
        if self._last_error:
            log.warning("mergeml: prediction log: writing to %s again", self.url)
            self._last_error = ""
        self._emit(WRITTEN, rows)
        return True

    def _put_back(self, entries: list[_Entry]) -> None:
        with self._lock:
            self._writing = 0
            if self._closed:  # a write that outlasted close: its rows were counted dropped
                return
            self._pending.extendleft(reversed(entries))
            self._rows += sum(e.rows for e in entries)
            dropped = self._trim()
        if dropped:
            self._emit(DROPPED, dropped)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is buffered (within ``timeout`` seconds) and stop the writer; rows
        not written by then are counted dropped and said in one warning."""
        self._deadline = time.monotonic() + timeout
        if self._thread is None:
            self._drain()
        else:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout)
        with self._lock:
            self._closed = True
            lost = self._rows + self._writing
            self._pending.clear()
            self._rows = self._writing = 0
        if lost:
            self._emit(DROPPED, lost)
            reason = f": {self._last_error}" if self._last_error else " in time"
            log.warning(
                "mergeml: prediction log: %d rows not written to %s%s", lost, self.url, reason
            )


def _size(rows: Any) -> int:
    """How many rows something that is not columns stands for (at least 1)."""
    try:
        return max(1, len(rows))
    except Exception:
        return 1


def _day(entry: _Entry) -> date:
    if entry.kind == PREDICTIONS:
        return utc(entry.item.received).date()
    return utc(entry.item[1]).date()


def _groups(entries: list[_Entry]) -> list[tuple[tuple[Any, ...], list[_Entry]]]:
    """``entries`` by (kind, day, columns), in order of first appearance."""
    groups: dict[tuple[Any, ...], list[_Entry]] = {}
    for entry in entries:
        try:
            key = _key(entry)
        except Exception:  # not frames, not a time: a table would fail the same way
            key = (entry.kind, None, id(entry))
        groups.setdefault(key, []).append(entry)
    return list(groups.items())


def _key(entry: _Entry) -> tuple[Any, ...]:
    if entry.kind == PREDICTIONS:
        shape: Any = signature(entry.item)
    else:
        shape = tuple((str(c), str(t)) for c, t in entry.item[0].dtypes.items())
    return (entry.kind, _day(entry), shape)


def _table(kind: str, entries: list[_Entry]) -> pa.Table:
    import pyarrow as pa

    if kind == PREDICTIONS:
        return prediction_table([e.item for e in entries])
    return pa.concat_tables([feedback_table(frame, at) for frame, at in (e.item for e in entries)])
