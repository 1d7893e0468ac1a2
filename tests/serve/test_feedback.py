"""`mergeml feedback FILE`: true labels from CSV or Parquet into the log's feedback dataset,
one part file per call; a bad file is one line naming the row, and writes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from mergeml.cli import main
from mergeml.serve.logread import read_log, read_log_table
from mergeml.serve.logstore import ENV_VAR
from tests.helpers import git, mergeml

Invoke = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Invoke:
    """Run ``mergeml ARGS`` in this process in ``tmp_path`` (not a repository)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as stop:
            main(list(args))
        out, err = capsys.readouterr()
        return int(stop.value.code or 0), out, err

    return invoke


def parts(log: Path) -> list[Path]:
    return sorted((log / "feedback").rglob("*.parquet")) if (log / "feedback").exists() else []


def test_a_csv_of_labels_becomes_one_part_file(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text(
        "request_id,row,label,note\n0042,0,1,a\nabc,1,0,b\nabc,0,1,c\n", encoding="utf-8"
    )

    code, out, err = cli("feedback", "labels.csv", "--log", "fb")

    assert (code, err) == (0, "")
    written = parts(tmp_path / "fb")
    assert len(written) == 1
    assert out == f"recorded 3 feedback rows into {written[0]}\n"
    table = read_log_table(str(tmp_path / "fb"), kind="feedback")
    assert table.column_names == ["request_id", "row", "label", "time"]  # note: not kept
    assert table["request_id"].to_pylist() == ["0042", "abc", "abc"]  # ids stay text
    assert table["label"].type == pa.int64()  # all whole numbers: kept as such
    assert table["row"].type == pa.int32()
    assert table["time"].type == pa.timestamp("us", tz="UTC")
    day = written[0].parent.name
    assert day == "date=" + table["time"][0].as_py().date().isoformat()


def test_row_defaults_to_0_and_mixed_labels_are_text(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("request_id,label\nr1,yes\nr2,2\n", encoding="utf-8")

    code, _, err = cli("feedback", "labels.csv", "--log", "fb")

    assert code == 0, err
    got = read_log(str(tmp_path / "fb"), kind="feedback")
    assert got["row"].tolist() == [0, 0]
    assert got["label"].tolist() == ["yes", "2"]


def test_a_parquet_file_with_times_keeps_them(cli: Invoke, tmp_path: Path) -> None:
    times = pd.to_datetime(["2026-11-01T10:00:00Z", "2026-11-02T11:30:00Z"])
    frame = pd.DataFrame({"request_id": ["a", "b"], "label": [0.5, 1.5], "time": times})
    frame.to_parquet(tmp_path / "labels.parquet", index=False)

    code, out, err = cli("feedback", "labels.parquet", "--log", "fb", "--json")

    assert code == 0, err
    doc = json.loads(out)
    assert doc["rows"] == 2
    assert doc["log"] == str(tmp_path / "fb")
    assert Path(doc["part"]).is_file()
    got = read_log(str(tmp_path / "fb"), kind="feedback")
    assert got["time"].tolist() == list(times)
    assert got["label"].tolist() == [0.5, 1.5]


def test_a_csv_time_as_text_is_parsed_as_utc(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text(
        "request_id,label,time\na,1,2026-11-01T12:00:00+02:00\nb,0,2026-11-02 08:00\n"
    )
    code, _, err = cli("feedback", "labels.csv", "--log", "fb")

    assert code == 0, err
    got = read_log(str(tmp_path / "fb"), kind="feedback")
    assert got["time"].tolist() == [
        pd.Timestamp("2026-11-01T10:00:00Z"),
        pd.Timestamp("2026-11-02T08:00:00Z"),
    ]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (
            "request_id,value\na,1\n",
            "labels.csv: no column 'label' (its columns: request_id, value)",
        ),
        ("label\n1\n", "labels.csv: no column 'request_id'"),
        ("request_id,label\na,1\n ,0\n", "labels.csv: row 2: empty request_id"),
        ("request_id,label\na,1\n,0\n", "labels.csv: row 2: empty request_id"),
        ("request_id,label\na,1\nb,1\nc,\n", "labels.csv: row 3: no label"),
        (
            "request_id,label,row\na,1,0\nb,1,-2\n",
            "labels.csv: row 2: 'row' must be a whole number",
        ),
        ("request_id,label,row\na,1,0\nb,1,1.5\n", "'row' must be a whole number ≥ 0, not 0.0"),
        ("request_id,label,row\na,1,0\nb,1,\n", "labels.csv: row 2: 'row' must be a whole"),
        ("request_id,label,time\na,1,2026-11-01\nb,1,soon\n", "row 2: 'time' is not a date-time"),
    ],
)
def test_a_bad_row_is_one_line_naming_it_and_nothing_is_written(
    cli: Invoke, tmp_path: Path, content: str, needle: str
) -> None:
    (tmp_path / "labels.csv").write_text(content, encoding="utf-8")

    code, out, err = cli("feedback", "labels.csv", "--log", "fb")

    assert code == 1
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("mergeml: error: ")
    assert needle in err
    assert not (tmp_path / "fb").exists()


def test_a_nan_label_in_parquet_is_missing(cli: Invoke, tmp_path: Path) -> None:
    pd.DataFrame({"request_id": ["a", "b"], "label": [1.0, float("nan")]}).to_parquet(
        tmp_path / "labels.parquet"
    )
    code, _, err = cli("feedback", "labels.parquet", "--log", "fb")

    assert code == 1
    assert "labels.parquet: row 2: no label" in err


@pytest.mark.parametrize(
    ("name", "needle", "status"),
    [
        (
            "labels.json",
            "FILE labels.json: unknown file type '.json' (use .parquet, .pq, .csv)",
            2,
        ),
        ("absent.csv", "feedback file not found: absent.csv", 1),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line(
    cli: Invoke, tmp_path: Path, name: str, needle: str, status: int
) -> None:
    (tmp_path / "labels.json").write_text("{}")
    code, _, err = cli("feedback", name, "--log", "fb")

    assert code == status
    assert err == f"mergeml: error: {needle}\n"


def test_an_empty_file_records_nothing_and_says_so(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("request_id,label\n")

    code, out, err = cli("feedback", "labels.csv", "--log", "fb")

    assert (code, err) == (0, "")
    assert out == "recorded 0 feedback rows (labels.csv holds no rows)\n"
    assert parts(tmp_path / "fb") == []


def test_the_repository_configures_the_log_and_off_refuses(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mergeml.serve]\nprediction_log = "var/predictions"\n'
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "labels.csv").write_text("request_id,label\na,1\n")
    monkeypatch.chdir(tmp_path / "sub")

    code, _, err = cli("feedback", "labels.csv")
    assert code == 0, err
    assert len(parts(tmp_path / "var/predictions")) == 1

    monkeypatch.setenv(ENV_VAR, "off")
    code, _, err = cli("feedback", "labels.csv")
    assert code == 2
    assert "the prediction log is off" in err
    assert "give --log URL" in err


def test_outside_a_repository_the_default_is_logs_here(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("request_id,label\na,1\n")
    code, _, err = cli("feedback", "labels.csv")

    assert code == 0, err
    assert len(parts(tmp_path / "logs")) == 1


def test_a_log_that_cannot_be_written_is_one_line(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("request_id,label\na,1\n")
    (tmp_path / "blocked").write_text("a file where the log's folder would go")

    code, _, err = cli("feedback", "labels.csv", "--log", "blocked")

    assert code == 1
    assert err.startswith("mergeml: error: cannot write feedback to ")
    assert len(err.splitlines()) == 1


@pytest.mark.pipeline
def test_the_real_command_records_feedback(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("request_id,label\na,1\nb,0\n")

    proc = mergeml(tmp_path, "feedback", "labels.csv", "--log", str(tmp_path / "fb"))

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("recorded 2 feedback rows into ")
    assert len(read_log(str(tmp_path / "fb"), kind="feedback")) == 2


def test_an_object_store_log_is_written_in_one_upload(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("request_id,label\na,cat\nb,dog\n")
    url = f"memory://{uuid.uuid4().hex}/log"

    code, out, err = cli("feedback", "labels.csv", "--log", url)

    assert code == 0, err
    assert out.startswith("recorded 2 feedback rows into memory://")
    assert read_log(url, kind="feedback")["label"].tolist() == ["cat", "dog"]
