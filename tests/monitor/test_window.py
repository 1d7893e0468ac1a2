"""The current window: parsing its bounds, reading only its partitions and columns of a
real prediction log, and CSV/Parquet files given as --current."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from mergeml.data.synthetic import generate_transactions
from mergeml.errors import MonitorError
from mergeml.monitor.window import Span, file_window, log_window, parse_moment, window_span
from tests.monitor.monitor_project import NOW, Project, make_project, write_log

FEATURES = ["amount", "channel"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("window") / "repo", rows=600)


@pytest.fixture(scope="module")
def log(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    url = tmp_path_factory.mktemp("log") / "logs"
    frame = generate_transactions(300, seed=3)
    write_log(url, project, frame.iloc[:100], when=NOW - timedelta(days=1))
    write_log(url, project, frame.iloc[100:150], when=NOW - timedelta(days=3))
    write_log(url, project, frame.iloc[150:170], when=NOW - timedelta(days=1), stage="staging")
    write_log(url, project, frame.iloc[170:200], when=NOW - timedelta(days=1), md5="f" * 32)
    return url


def test_moments_are_dates_or_datetimes_in_utc() -> None:
    assert parse_moment("2026-11-30", "--since") == datetime(2026, 11, 30, tzinfo=UTC)
    assert parse_moment("2026-11-30T13:00+01:00", "--until") == datetime(
        2026, 11, 30, 12, tzinfo=UTC
    )
    with pytest.raises(MonitorError, match="--since must be an ISO date"):
        parse_moment("last tuesday", "--since")


def test_the_default_window_is_the_last_days_ending_now() -> None:
    span = window_span(None, None, 7, now=NOW)
    assert span == Span(NOW - timedelta(days=7), NOW)
    with pytest.raises(MonitorError, match="the window is empty"):
        window_span("2026-11-30", "2026-11-29", 7)


def test_the_window_holds_its_stage_and_model_rows_only(project: Project, log: Path) -> None:
    span = Span(NOW - timedelta(days=2), NOW)
    frame = log_window(str(log), span, stage="production", md5=project.md5, columns=FEATURES)
    assert len(frame) == 100
    assert set(frame.columns) == {*FEATURES, "time", "stage", "model_md5"}  # nothing else read
    longer = Span(NOW - timedelta(days=5), NOW)
    assert len(log_window(str(log), longer, stage="production", md5=None, columns=FEATURES)) == 180


def test_only_the_partitions_of_the_window_are_opened(
    project: Project, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mergeml.serve.logstore import LogStore

    opened: list[str] = []
    real = LogStore.parts

    def parts(self: LogStore, folder: str) -> list[str]:
        opened.append(folder.rsplit("/", 1)[-1])
        return real(self, folder)

    monkeypatch.setattr(LogStore, "parts", parts)
    span = Span(NOW - timedelta(days=2), NOW)
    log_window(str(log), span, stage="production", md5=project.md5, columns=FEATURES)
    assert opened == ["date=2026-11-29"]


def test_an_empty_window_names_the_stage_the_dates_and_the_log(log: Path) -> None:
    span = Span(NOW - timedelta(days=30), NOW - timedelta(days=20))
    with pytest.raises(MonitorError) as err:
        log_window(str(log), span, stage="production", md5=None, columns=FEATURES)
    message = str(err.value)
    assert "no predictions for stage production between 2026-10-31" in message
    assert str(log / "predictions") in message


def test_rows_of_another_model_are_refused_with_both_md5s(log: Path) -> None:
    span = Span(NOW - timedelta(days=2), NOW)
    with pytest.raises(MonitorError, match=r"made by model md5 .*, not by 0123456789ab"):
        log_window(str(log), span, stage="production", md5="0123456789ab" * 2, columns=FEATURES)


def test_current_files_csv_parquet_and_directories(tmp_path: Path) -> None:
    frame = pd.DataFrame({"amount": [1.0, 2.0], "channel": ["web", "pos"], "id": [1, 2]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "b.parquet")
    assert list(file_window(tmp_path / "a.csv", FEATURES).columns) == FEATURES
    assert len(file_window(tmp_path, FEATURES)) == 4


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.csv", None, "no such file or directory"),
        ("data.txt", "amount\n1\n", "expected a .csv or .parquet file"),
        ("short.csv", "amount,id\n1,2\n", "missing column(s) channel that the model takes"),
        ("broken.parquet", "not parquet", "unreadable"),
    ],
)
def test_bad_current_files_are_one_clear_error(
    tmp_path: Path, name: str, content: str | None, problem: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(MonitorError) as err:
        file_window(path, FEATURES)
    assert problem in str(err.value)
    assert str(path) in str(err.value)
