"""Where the prediction log goes (`log_location`), how part files appear (whole, never
overwritten) and how `read_log` reads a range of days without touching the others."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from importlib.util import find_spec
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mergeml.errors import ConfigError, PredictionLogError, UsageError
from mergeml.serve.logread import read_log, read_log_table
from mergeml.serve.logstore import ENV_VAR, LogStore, log_location
from mergeml.serve.predlog import PredictionLog
from tests.serve.test_predlog import MODEL, NOON, inputs, outputs

DAY = date(2026, 11, 30)


def pyproject(root: Path, value: str | None) -> Path:
    section = "" if value is None else f'[tool.mergeml.serve]\nprediction_log = "{value}"\n'
    (root / "pyproject.toml").write_text(f'[project]\nname = "x"\n{section}', encoding="utf-8")
    return root


# --- the location -----------------------------------------------------------------------------


def test_the_command_line_wins_then_the_environment_then_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    pyproject(repo, "s3://bucket/predictions-log")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_VAR, "gs://other/log")

    assert log_location("memory://cli/log", repo) == "memory://cli/log"
    assert log_location(None, repo) == "gs://other/log"
    monkeypatch.delenv(ENV_VAR)
    assert log_location(None, repo) == "s3://bucket/predictions-log"


def test_local_paths_are_absolute_configured_ones_against_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    pyproject(repo, "var/log")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv(ENV_VAR, raising=False)

    assert log_location(None, repo) == str(repo / "var/log")
    assert log_location("here", repo) == str(elsewhere / "here")
    monkeypatch.setenv(ENV_VAR, "from-env")
    assert log_location(None, repo) == str(elsewhere / "from-env")


def test_the_default_is_logs_in_the_repository_else_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    repo = pyproject(tmp_path, None)

    assert log_location(None, repo) == str(tmp_path / "logs")
    assert log_location(None, None) == str(tmp_path / "logs")
    monkeypatch.setenv(ENV_VAR, "  ")  # set but empty: as if unset
    assert log_location(None, None) == str(tmp_path / "logs")


@pytest.mark.parametrize("where", ["cli", "env", "pyproject"])
def test_off_anywhere_in_the_chain_disables_the_log(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    repo = pyproject(tmp_path, "OFF" if where == "pyproject" else "var/log")
    if where == "env":
        monkeypatch.setenv(ENV_VAR, "off")

    assert log_location("off" if where == "cli" else None, repo) is None


def test_a_configured_value_that_is_not_a_path_names_the_key_and_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mergeml.serve]\nprediction_log = 3\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: \[tool.mergeml.serve\] prediction_log"):
        log_location(None, tmp_path)


@pytest.mark.skipif(find_spec("s3fs") is not None, reason="s3fs is installed here")
def test_a_url_needing_a_missing_package_says_which() -> None:
    with pytest.raises(PredictionLogError, match="s3://bucket/log: Install s3fs"):
        LogStore.open("s3://bucket/log")


# --- part files -------------------------------------------------------------------------------


def test_part_files_appear_whole_and_never_overwrite_each_other(tmp_path: Path) -> None:
    store = LogStore.open(str(tmp_path))
    table = pa.table({"a": [1, 2]})
    written = {store.write_part("predictions", DAY, table) for _ in range(5)}

    folder = tmp_path / "predictions" / "date=2026-11-30"
    assert {str(p) for p in folder.iterdir()} == written  # five files, no temporary left
    assert all(pq.read_table(p).equals(table) for p in written)


def test_a_write_that_breaks_midway_leaves_no_part_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LogStore.open(str(tmp_path))

    def half_then_fail(table: pa.Table, where: object, **_: object) -> None:
        where.write(b"PAR1 half a file")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", half_then_fail)
    with pytest.raises(OSError, match="No space"):
        store.write_part("predictions", DAY, pa.table({"a": [1]}))
    folder = tmp_path / "predictions" / "date=2026-11-30"
    assert list(folder.iterdir()) == []


def test_an_object_store_url_is_written_and_read_through_fsspec() -> None:
    url = f"memory://{uuid.uuid4().hex}/log"
    log = PredictionLog(url, flush_seconds=60)
    log.record("r", NOON, MODEL, inputs(4), outputs(4))
    log.close()

    assert read_log(url)["row"].tolist() == [0, 1, 2, 3]


# --- reading ----------------------------------------------------------------------------------


def _log_on(root: Path, *days: int) -> None:
    log = PredictionLog(str(root), flush_seconds=60)
    for day in days:
        at = datetime(2026, 11, day, 9, tzinfo=UTC)
        log.record(f"nov-{day}", at, MODEL, inputs(2), outputs(2))
    log.close()


def test_only_the_partitions_of_the_range_are_opened(tmp_path: Path) -> None:
    _log_on(tmp_path, 27, 28, 29, 30)
    for day in (27, 30):  # outside the range: unreadable, so opening one would fail
        for part in (tmp_path / "predictions" / f"date=2026-11-{day}").iterdir():
            part.write_bytes(b"not parquet")
    (tmp_path / "predictions" / "notes.txt").write_text("ignored")

    got = read_log(str(tmp_path), date(2026, 11, 28), "2026-11-29")
    assert got["request_id"].unique().tolist() == ["nov-28", "nov-29"]
    with pytest.raises(PredictionLogError, match=r"date=2026-11-30/part-.*unreadable"):
        read_log(str(tmp_path), start="2026-11-29")


def test_reading_a_log_that_is_not_there_yet_gives_no_rows(tmp_path: Path) -> None:
    assert read_log_table(str(tmp_path / "nothing")).num_rows == 0
    assert read_log(str(tmp_path), kind="feedback").empty


def test_hidden_temporary_files_are_not_read(tmp_path: Path) -> None:
    _log_on(tmp_path, 30)
    folder = tmp_path / "predictions" / "date=2026-11-30"
    (folder / ".part-x.parquet.tmp").write_bytes(b"half")
    (folder / ".part-y.parquet").write_bytes(b"half")

    assert len(read_log(str(tmp_path))) == 2


def test_a_bad_kind_or_date_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="kind must be one of predictions, feedback"):
        read_log(str(tmp_path), kind="labels")
    with pytest.raises(UsageError, match="start must be a date"):
        read_log(str(tmp_path), start="yesterday")
