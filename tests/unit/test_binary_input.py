"""A binary file given as CSV: one readable line, control bytes never echoed raw.

Issue 10, item 15. The error boundary shows any control character escaped (``\\x00``);
the CSV reader refuses binary content before pandas turns it into column names.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mergeml.data.sources import read_table
from mergeml.errors import DataError, one_line
from tests.helpers import git, make_project, mergeml, run

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(32)) * 8
# A header of NUL and terminal escape bytes that pandas reads as column names.
NUL_HEADER = b"\x00" * 1000 + b"\x1b[2J,b\n1,2\n"
CONTROL = [chr(c) for c in (*range(0x20), 0x7F)]


def raw_controls(text: str) -> list[str]:
    return [c for c in text if c in CONTROL and c not in "\n"]


def test_one_line_escapes_control_characters() -> None:
    line = one_line("bad\x00name\x1b[31m red\u202e x\n y\x07")
    assert line == "bad\\x00name\\x1b[31m red\\u202e x y\\x07"
    assert one_line("plain é 中 text") == "plain é 中 text"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "NUL byte at offset 8"),
        (NUL_HEADER, "NUL byte at offset 0"),
        (b"PAR1\x15\x04", "it is a Parquet file"),
        (b"PK\x03\x04rest", "a zip archive"),
        (b"\x1f\x8b\x08\x00", "gzip-compressed"),
    ],
)
def test_binary_content_is_refused_before_parsing(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=expected) as caught:
        read_table(path)
    assert not raw_controls(str(caught.value))
    assert len(str(caught.value)) < 300


@pytest.mark.pipeline
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (NUL_HEADER, "binary data, not CSV text"),
        # Text, but with terminal escapes in the header: shown escaped, names clipped.
        (b"\x1b[31mred\x1b[0m" + b"x" * 500 + b",b\n1,2\n3,4\n", "columns: \\x1b[31mred"),
    ],
    ids=["nul", "escape"],
)
def test_the_prepare_stage_prints_one_escaped_line(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    repo = make_project(tmp_path / "repo")
    (repo / "data/raw/table.csv").write_bytes(content)
    git(repo, "add", "-f", "data/raw/table.csv")
    overrides = ("data=file", "data.path=data/raw/table.csv", "data.target=y")
    assert mergeml(repo, "params", "compose", *overrides).returncode == 0
    proc = run([sys.executable, "pipelines/prepare.py"], repo, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("mergeml: error: ")
    assert expected in lines[0]
    assert not raw_controls(proc.stderr)
    assert len(lines[0]) < 600
    assert not (repo / "data/prepared").exists()
