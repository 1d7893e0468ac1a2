"""The registry's dvc.lock scan: whenever it is sure, it says what the full parse says.

`scan_out_md5` reads one output's md5 without parsing the whole lock; it must never give
another answer than `md5_in_lock_text`, and on what DVC itself writes it must be sure (or
the registry would be back to a full parse per version).
"""

from __future__ import annotations

import string
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergeml.config.lockfile import md5_in_lock_text, out_md5, scan_out_md5
from mergeml.errors import ModelFileError
from tests.projects import ROOT

MODEL = "models/model.skops"
PATHS = [MODEL, "./models/model.skops", "models//model.skops", "data/prepared", "model.skops"]
WORDS = st.text(string.ascii_letters + string.digits + " -_./:#'\"\\|>&*!%@`{}[],?", max_size=30)


def dvc_dump(doc: dict[str, Any]) -> str:
    """What DVC writes (ruamel.yaml, DVC's own settings)."""
    from dvc.utils.serialize import dumps_yaml

    return dumps_yaml(doc)


def full(text: str, path: str) -> tuple[str, str | None]:
    try:
        return "ok", md5_in_lock_text(text, path)
    except ModelFileError:
        return "error", None


def agree(text: str, path: str) -> bool:
    """Asserts the scan agrees with the parse when sure; returns whether it was sure."""
    sure, md5 = scan_out_md5(text, path)
    if sure:
        assert full(text, path) == ("ok", md5), text
    return sure


def out(path: str, md5: Any, extra: dict[str, Any]) -> dict[str, Any]:
    return {"path": path, "hash": "md5", "md5": md5, **extra}


scalars = st.one_of(WORDS, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
entries = st.builds(
    out,
    st.sampled_from([*PATHS, "reports/metrics.json", "params.yaml"]),
    st.one_of(st.text("0123456789abcdef", min_size=1, max_size=36), WORDS, st.integers()),
    st.dictionaries(st.sampled_from(["size", "nfiles", "cloud", "isexec"]), scalars, max_size=2),
)
stages = st.fixed_dictionaries(
    {
        "cmd": st.one_of(WORDS, st.text(max_size=80)),
        "deps": st.lists(entries, max_size=3),
        "params": st.dictionaries(
            st.just("params.yaml"), st.dictionaries(WORDS, scalars, max_size=3), max_size=1
        ),
        "outs": st.lists(entries, max_size=3),
    }
)
locks = st.builds(
    lambda s: {"schema": "2.0", "stages": s},
    st.dictionaries(st.from_regex(r"[a-z][a-z_@-]{0,8}", fullmatch=True), stages, max_size=4),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lock=locks, path=st.sampled_from(PATHS))
def test_dvc_written_locks_are_read_as_the_parse_reads_them(lock: dict, path: str) -> None:
    text = dvc_dump(lock)
    sure = agree(text, path)
    plain = all(
        isinstance(o["md5"], str) and o["md5"].isalnum()
        for s in lock["stages"].values()
        for o in s["outs"]
    )
    if lock["stages"] and plain:
        assert sure, text  # what DVC writes for real outputs, the scan reads


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lock=locks,
    path=st.sampled_from(PATHS),
    style=st.sampled_from(
        [
            {},
            {"default_flow_style": True},
            {"default_flow_style": None},
            {"indent": 4},
            {"width": 20},
            {"default_style": '"'},
            {"default_style": "'"},
            {"default_style": "|"},
        ]
    ),
)
def test_any_yaml_spelling_is_read_right_or_parsed(lock: dict, path: str, style: dict) -> None:
    agree(yaml.safe_dump(lock, sort_keys=False, **style), path)


TRICKS = {
    "a block scalar holding a fake entry": """\
stages:
  train:
    cmd: |
      outs:
      - path: models/model.skops
        md5: fake
    outs:
    - path: models/model.skops
      md5: real
""",
    "a quoted multi-line command": """\
stages:
  train:
    cmd: "python
      outs: - path: models/model.skops"
    outs:
    - path: models/model.skops
      md5: real
""",
    "the model as a dependency only": """\
stages:
  evaluate:
    deps:
    - path: models/model.skops
      md5: dep
    outs:
    - path: reports/metrics.json
      md5: m
""",
    "a stage twice": """\
stages:
  train:
    outs:
    - path: models/model.skops
      md5: first
  train:
    outs:
    - path: models/model.skops
      md5: second
""",
    "md5 twice": """\
stages:
  train:
    outs:
    - path: models/model.skops
      md5: first
      md5: second
""",
    "an escaped path": """\
stages:
  train:
    outs:
    - path: "models/model\\x2eskops"
      md5: escaped
""",
    "an anchor and an alias": """\
stages:
  train:
    outs:
    - &m
      path: models/model.skops
      md5: anchored
  evaluate:
    outs:
    - *m
""",
    "a quoted command going on at its own indent": """\
stages:
  train:
    cmd: "python
    outs:
    - path: models/model.skops
      md5: fake"
""",
    "a single-quoted command going on at its own indent": """\
stages:
  train:
    cmd: 'python
    outs:
    - path: models/model.skops
      md5: fake'
  evaluate:
    outs: []
""",
    "a line break escaped in double quotes": """\
stages:
  train:
    cmd: "python\\
    outs:
    - path: models/model.skops
      md5: fake"
""",
    "a key-like value": "stages:\n  train:\n    outs:\n    - path: models/model.skops\n"
    "      md5: abc:\n",
    "an alias in outs to an anchor in deps": """\
stages:
  train:
    deps:
    - &m
      path: models/model.skops
      md5: aliased
    outs:
    - *m
""",
    "an explicit key": "stages:\n  train:\n    ? outs\n    : - path: models/model.skops\n"
    "        md5: explicit\n",
    "a flow mapping going on": """\
stages:
  train:
    cmd: {a: 1,
    outs: []
    }
    outs:
    - path: models/model.skops
      md5: real
""",
    "a tag": "stages:\n  train:\n    outs:\n    - path: models/model.skops\n"
    "      md5: !!str tagged\n",
    "quotes and ampersands inside plain scalars": """\
stages:
  train:
    cmd: python a.py && echo it's 'done
    outs:
    - path: models/model.skops
      md5: real
""",
    "comments at any indent": """\
stages:
  prepare:
    outs: []
# a comment between stages
  train:
  # another
    outs:
  # and another
    - path: models/model.skops
# one more
      md5: commented
""",
    "flow style": "stages: {train: {outs: [{path: models/model.skops, md5: flow}]}}\n",
    "a comment after the value": """\
stages:
  train:
    outs:
    - path: models/model.skops # the model
      md5: commented
""",
    "a value continued": """\
stages:
  train:
    outs:
    - path: models/model.skops
      md5: abc
        def
""",
    "a key before the path": """\
stages:
  train:
    outs:
    - md5: before
      hash: md5
      path: ./models/model.skops
""",
    "an indented sequence": """\
stages:
    train:
        outs:
            -   path: 'models/model.skops'
                md5: 'ind''ented'
""",
    "no outs": "schema: '2.0'\nstages:\n  train:\n    cmd: x\n    outs: []\n",
    "no stages": "schema: '2.0'\n",
    "a broken file": "stages: [unclosed\n",
    "windows line ends": "stages:\r\n  train:\r\n    outs:\r\n    - path: models/model.skops\r\n"
    "      md5: crlf\r\n",
    "a tab": "stages:\n  train:\n    outs:\n    - path: models/model.skops\n      md5:\treal\n",
    "an empty md5": "stages:\n  train:\n    outs:\n    - path: models/model.skops\n      md5:\n",
    "a nested md5": "stages:\n  train:\n    outs:\n    - path: models/model.skops\n      md5:\n"
    "        - a\n",
    "a second document": "stages:\n  a:\n    outs: []\n---\nstages:\n  train:\n    outs:\n"
    "    - path: models/model.skops\n      md5: doc2\n",
}


@pytest.mark.parametrize("text", TRICKS.values(), ids=TRICKS.keys())
def test_tricky_locks_are_read_right_or_parsed(text: str) -> None:
    agree(text, MODEL)
    try:
        assert out_md5(text, MODEL) == md5_in_lock_text(text, MODEL)
    except ModelFileError:
        with pytest.raises(ModelFileError):
            md5_in_lock_text(text, MODEL)


def test_this_repository_lock_is_read_without_a_parse() -> None:
    text = (ROOT / "dvc.lock").read_text()
    for path in (MODEL, "reports/metrics.json", "data/prepared", "params.yaml", "missing"):
        assert agree(text, path)


REAL = (ROOT / "dvc.lock").read_text()
LINES = REAL.splitlines(keepends=True)
EDITS = st.lists(
    st.tuples(
        st.integers(0, len(LINES) - 1),
        st.sampled_from(["indent", "dedent", "dup", "drop", "insert"]),
        st.sampled_from(
            [
                "  outs:\n",
                "    outs:\n",
                "    - path: models/model.skops\n",
                "      md5: inserted\n",
                "      path: models/model.skops\n",
                "    cmd: |\n",
                "  train:\n",
                "# a comment\n",
                "        md5: deeper\n",
                "    - md5: x\n",
                "stages:\n",
                "    outs: []\n",
                '    cmd: "python\n',
                "    cmd: 'python\n",
                '      md5: "x\n',
                "      md5: x'\n",
                "    - &m\n",
                "    - *m\n",
                "    ? outs\n",
                "    cmd: {a: 1,\n",
                "    cmd: [a,\n",
                "      md5: !!str x\n",
            ]
        ),
    ),
    min_size=1,
    max_size=4,
)


def edit(lines: list[str], at: int, how: str, new: str) -> list[str]:
    line = lines[at % len(lines)]
    at %= len(lines)
    replaced = {
        "indent": ["  " + line],
        "dedent": [line[2:] if line.startswith("  ") else line],
        "dup": [line, line],
        "drop": [],
        "insert": [new, line],
    }[how]
    return lines[:at] + replaced + lines[at + 1 :]


@settings(max_examples=400, deadline=None)
@given(edits=EDITS, path=st.sampled_from([MODEL, "reports/metrics.json", "data/prepared"]))
def test_an_edited_real_lock_is_read_right_or_parsed(edits: list, path: str) -> None:
    lines = list(LINES)
    for at, how, new in edits:
        lines = edit(lines, at, how, new)
    text = "".join(lines)
    sure, md5 = scan_out_md5(text, path)
    parsed = full(text, path)
    if sure and parsed[0] == "ok":  # on text that is not YAML, the scan may still answer
        assert parsed == ("ok", md5), text
