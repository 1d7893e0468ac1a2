"""The prediction log's background writer, with real Parquet files: what is recorded is
read back, a slow or failing sink never reaches the request side, and what cannot be
written is counted. Faults come from an in-memory fsspec filesystem that fails or stalls
its writes on demand (the only thing mocked)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pandas as pd
import pyarrow as pa
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from mergeml.errors import PredictionLogError
from mergeml.serve.logread import read_log, read_log_table
from mergeml.serve.predlog import PredictionLog

MODEL = {"name": "tabular-model", "version": "v0.3.0", "stage": "staging", "md5": "ab12"}
MODEL |= {"commit": "c0ffee"}
NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class FaultyFS(MemoryFileSystem):
    """An in-memory filesystem whose writes fail (``fault``) or wait (``gate``) on demand."""

    protocol = ("faulty",)
    fault: ClassVar[BaseException | None] = None
    gate: ClassVar[threading.Event | None] = None
    opened: ClassVar[list[str]] = []

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        return super()._strip_protocol(str(path).removeprefix("faulty://"))

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        type(self).opened.append(path)
        if "w" in mode:
            gate = type(self).gate
            if gate is not None:
                gate.wait(10)
            fault = type(self).fault
            if fault is not None:
                raise fault
        return super()._open(path, mode, **kwargs)


@pytest.fixture
def faulty() -> Iterator[type[FaultyFS]]:
    fsspec.register_implementation("faulty", FaultyFS, clobber=True)
    FaultyFS.fault, FaultyFS.gate, FaultyFS.opened = None, None, []
    yield FaultyFS
    if FaultyFS.gate is not None:
        FaultyFS.gate.set()
    FaultyFS.fault, FaultyFS.gate = None, None


def faulty_url() -> str:
    return f"faulty://{uuid.uuid4().hex}/log"


def inputs(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": pd.Series(range(start, start + n), dtype="int64"),
            "income": [1.5 * i if i % 3 else None for i in range(n)],
            "city": pd.Categorical(["oslo", "lima"] * (n // 2) + ["oslo"] * (n % 2)),
            "member": [i % 2 == 0 for i in range(n)],
        }
    )


def outputs(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"prediction": [i % 2 for i in range(n)], "proba_0": [0.25] * n, "proba_1": [0.75] * n}
    )


class Events:
    """``on_event`` calls, summed by kind."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, event: str, rows: int) -> None:
        with self.lock:
            self.counts[event] += rows


def record(log: PredictionLog, requests: int, rows: int = 3, at: datetime = NOON) -> None:
    for i in range(requests):
        log.record(f"req-{i}", at, MODEL, inputs(rows, start=i * rows), outputs(rows))


def test_every_recorded_row_is_read_back_after_close(tmp_path: Path) -> None:
    events = Events()
    log = PredictionLog(str(tmp_path / "logs"), flush_seconds=60, on_event=events)
    log.start()
    record(log, 40)  # 120 rows: under a quarter of the buffer, so only close writes them
    log.close()

    got = read_log(str(tmp_path / "logs"))
    assert len(got) == 120
    assert events.counts == {"written": 120}
    assert list(got["request_id"].unique()) == [f"req-{i}" for i in range(40)]
    assert list(got["row"][:6]) == [0, 1, 2, 0, 1, 2]
    assert list(got["age"]) == list(range(120))
    assert (got["time"] == pd.Timestamp(NOON)).all()
    assert (got[["model_name", "model_version", "stage", "model_md5"]].iloc[0]).tolist() == [
        "tabular-model",
        "v0.3.0",
        "staging",
        "ab12",
    ]


def test_the_log_schema_is_the_documented_one(tmp_path: Path) -> None:
    log = PredictionLog(str(tmp_path), flush_seconds=60)
    log.record("r", NOON, MODEL, inputs(2), outputs(2))
    log.close()

    schema = read_log_table(str(tmp_path)).schema
    assert schema.names == [
        "request_id", "row", "time", "model_name", "model_version", "stage", "model_md5",
        "age", "income", "city", "member", "prediction", "proba_0", "proba_1",
    ]  # fmt: skip
    assert schema.field("row").type == pa.int32()
    assert schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert schema.field("city").type == pa.string()  # categories as plain text
    assert schema.field("age").type == pa.int64()
    assert schema.field("member").type == pa.bool_()
    parts = list((tmp_path / "predictions" / "date=2026-11-30").iterdir())
    assert len(parts) == 1
    assert parts[0].name.startswith("part-2")
    assert parts[0].name.endswith(".parquet")


def test_a_feature_named_like_a_log_column_is_stored_as_input_name(tmp_path: Path) -> None:
    log = PredictionLog(str(tmp_path), flush_seconds=60)
    features = pd.DataFrame({"time": [3.5], "prediction": ["x"], "age": [1]})
    log.record("r", NOON, MODEL, features, outputs(1))
    log.close()

    got = read_log(str(tmp_path))
    assert got["input_time"].tolist() == [3.5]
    assert got["input_prediction"].tolist() == ["x"]
    assert got["prediction"].tolist() == [0]
    assert got["time"].tolist() == [pd.Timestamp(NOON)]


def test_requests_are_partitioned_by_the_utc_day_they_were_received(tmp_path: Path) -> None:
    log = PredictionLog(str(tmp_path), flush_seconds=60)
    late = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
    log.record("a", late, MODEL, inputs(1), outputs(1))
    log.record("b", late + timedelta(seconds=2), MODEL, inputs(1), outputs(1))
    tokyo = datetime(2026, 12, 2, 8, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Tokyo")
    )
    log.record("c", tokyo, MODEL, inputs(1), outputs(1))
    log.close()

    days = sorted(p.name for p in (tmp_path / "predictions").iterdir())
    assert days == ["date=2026-11-30", "date=2026-12-01", "date=2026-12-02"]
    assert read_log(str(tmp_path), "2026-12-01", "2026-12-01")["request_id"].tolist() == ["b"]


def test_model_versions_with_other_columns_write_other_files_read_as_one(tmp_path: Path) -> None:
    log = PredictionLog(str(tmp_path), flush_seconds=60)
    log.record("old", NOON, MODEL, inputs(2), outputs(2))
    newer = {**MODEL, "version": "v0.4.0"}
    log.record("new", NOON, newer, inputs(1).drop(columns="city").assign(tenure=[7]), outputs(1))
    log.close()

    assert len(list((tmp_path / "predictions" / "date=2026-11-30").iterdir())) == 2
    got = read_log(str(tmp_path)).set_index("request_id")
    assert got.loc["new", "tenure"] == 7
    assert pd.isna(got.loc["new", "city"])
    assert got.loc["old", "tenure"].isna().all()


def test_the_writer_flushes_on_its_timer_without_close(tmp_path: Path) -> None:
    events = Events()
    log = PredictionLog(str(tmp_path), flush_seconds=0.05, on_event=events)
    log.start()
    record(log, 2)
    deadline = time.monotonic() + 5
    while events.counts["written"] < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(read_log(str(tmp_path))) == 6
    log.close()


def test_a_full_quarter_buffer_is_written_before_the_interval(tmp_path: Path) -> None:
    events = Events()
    log = PredictionLog(str(tmp_path), flush_seconds=60, max_buffer_rows=40, on_event=events)
    log.start()
    record(log, 4)  # 12 rows >= 40 // 4
    deadline = time.monotonic() + 5
    while events.counts["written"] < 12 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert events.counts["written"] >= 12
    log.close()


def test_a_stalled_sink_never_slows_the_request_side(faulty: type[FaultyFS]) -> None:
    faulty.gate = threading.Event()  # every write waits until the test opens the gate
    events = Events()
    url = faulty_url()
    log = PredictionLog(url, flush_seconds=0.01, max_buffer_rows=1000, on_event=events)
    log.start()
    frame_in, frame_out = inputs(3), outputs(3)
    slowest = 0.0
    for i in range(200):
        began = time.perf_counter()
        log.record(f"r{i}", NOON, MODEL, frame_in, frame_out)
        slowest = max(slowest, time.perf_counter() - began)
    assert slowest < 0.05  # the writer is stuck in a write all this time
    faulty.gate.set()
    log.close(timeout=10)
    assert len(read_log(url)) == 600
    assert events.counts["written"] == 600


def test_a_failing_sink_keeps_the_newest_rows_and_writes_them_once_it_recovers(
    faulty: type[FaultyFS], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mergeml")
    faulty.fault = OSError("bucket unreachable")
    events = Events()
    url = faulty_url()
    log = PredictionLog(url, flush_seconds=0.02, max_buffer_rows=30, on_event=events)
    log.start()
    for i in range(20):  # 60 rows, while every write fails
        log.record(f"r{i}", NOON, MODEL, inputs(3, start=3 * i), outputs(3))
        time.sleep(0.005)
    deadline = time.monotonic() + 5
    while events.counts["dropped"] < 30 and time.monotonic() < deadline:
        time.sleep(0.01)  # a failed write's rows go back to the buffer, then the bound holds
    assert events.counts["failed"] >= 1
    assert events.counts["dropped"] == 30  # the oldest, beyond the 30-row bound
    assert events.counts["written"] == 0
    faulty.fault = None
    log.close(timeout=10)

    got = read_log(url)
    assert got["request_id"].unique().tolist() == [f"r{i}" for i in range(10, 20)]
    assert events.counts["written"] == 30
    assert events.counts["dropped"] == 30
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        f"mergeml: prediction log: cannot write to {url}: bucket unreachable",
        f"mergeml: prediction log: writing to {url} again",
    ]


def test_close_counts_what_a_dead_sink_never_took_and_says_so_once(
    faulty: type[FaultyFS], caplog: pytest.LogCaptureFixture
) -> None:
    faulty.fault = PermissionError("access denied")
    events = Events()
    log = PredictionLog(faulty_url(), flush_seconds=60, on_event=events)
    log.start()
    record(log, 5)
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="mergeml"):
        log.close(timeout=0.5)
    assert time.monotonic() - began < 3
    assert events.counts["dropped"] == 15
    assert events.counts["written"] == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2  # however many attempts failed
    assert warnings[0].endswith(": cannot write to " + log.url + ": access denied")
    assert warnings[1] == (
        f"mergeml: prediction log: 15 rows not written to {log.url}: access denied"
    )


def test_close_gives_up_on_a_write_that_hangs_past_its_timeout(
    faulty: type[FaultyFS], caplog: pytest.LogCaptureFixture
) -> None:
    faulty.gate = threading.Event()
    events = Events()
    log = PredictionLog(faulty_url(), flush_seconds=60, on_event=events)
    log.start()
    record(log, 2)
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="mergeml"):
        log.close(timeout=0.3)
    assert time.monotonic() - began < 2
    assert events.counts["dropped"] == 6
    assert "6 rows not written" in caplog.text


def test_records_beyond_the_bound_or_after_close_are_counted_dropped(tmp_path: Path) -> None:
    events = Events()
    log = PredictionLog(str(tmp_path), flush_seconds=60, max_buffer_rows=5, on_event=events)
    log.record("too-big", NOON, MODEL, inputs(6), outputs(6))  # never fits: dropped alone
    log.record("fits", NOON, MODEL, inputs(5), outputs(5))
    log.record("mismatch", NOON, MODEL, inputs(2), outputs(1))  # malformed: dropped
    log.close()
    log.record("late", NOON, MODEL, inputs(1), outputs(1))

    assert events.counts == {"dropped": 6 + 2 + 1, "written": 5}
    assert read_log(str(tmp_path))["request_id"].unique().tolist() == ["fits"]


def test_record_never_raises_not_even_for_a_broken_hook(tmp_path: Path) -> None:
    def broken(event: str, rows: int) -> None:
        raise RuntimeError("metrics down")

    log = PredictionLog(str(tmp_path), flush_seconds=60, max_buffer_rows=1, on_event=broken)
    log.record("r", NOON, MODEL, inputs(2), outputs(2))  # dropped, hook raises: swallowed
    log.record("r", NOON, MODEL, None, None)  # not frames at all
    log.record_feedback(None)
    log.close()


def test_malformed_records_are_dropped_and_the_writer_carries_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events = Events()
    log = PredictionLog(str(tmp_path), flush_seconds=0.02, on_event=events)
    log.start()
    log.record("list", NOON, MODEL, [1, 2], [0, 1])  # not frames
    log.record("when", "yesterday", MODEL, inputs(1), outputs(1))  # not a datetime
    deadline = time.monotonic() + 5
    while events.counts["dropped"] < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    log.record("fine", NOON, MODEL, inputs(2), outputs(2))
    log.close()

    assert events.counts == {"dropped": 3, "written": 2}
    assert read_log(str(tmp_path))["request_id"].unique().tolist() == ["fine"]
    assert "rows dropped" in caplog.text


def test_server_feedback_is_buffered_and_written_beside_the_predictions(tmp_path: Path) -> None:
    log = PredictionLog(str(tmp_path), flush_seconds=60)
    log.record("r1", NOON, MODEL, inputs(2), outputs(2))
    log.record_feedback(pd.DataFrame({"request_id": ["r1", "r1"], "row": [0, 1], "label": [1, 0]}))
    log.record_feedback(pd.DataFrame({"request_id": ["r2"], "label": ["churned"]}))
    log.close()

    got = read_log(str(tmp_path), kind="feedback")
    assert got["request_id"].tolist() == ["r1", "r1", "r2"]
    assert got["row"].tolist() == [0, 1, 0]
    assert got["label"].tolist() == ["1", "0", "churned"]  # ints in one file, text in another
    assert got["time"].notna().all()


def test_a_url_no_filesystem_serves_is_refused_at_once() -> None:
    with pytest.raises(PredictionLogError, match="nosuchfs://bucket/log"):
        PredictionLog("nosuchfs://bucket/log")
