"""Read output hashes from a DVC ``dvc.lock`` file.

`md5_in_lock_text` parses the whole lock. `out_md5` first scans the text for the one
output it is asked about (a registry reads a lock per version: a full parse of a real,
four-stage lock costs milliseconds) and parses in full only when the scan is unsure.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mergeml.errors import MergemlError, ModelFileError
from mergeml.yamlread import parse_yaml


def normalise_out_path(path: str) -> str:
    """A DVC output path in one spelling: forward slashes, no ``./`` or ``a/../``."""
    return posixpath.normpath(path.replace("\\", "/"))


def _read_lock(lock_path: Path) -> dict[str, Any]:
    """Parse ``lock_path`` into its ``stages`` mapping."""
    try:
        text = lock_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ModelFileError(f"lock file not found: {lock_path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"cannot read lock file {lock_path}: {exc}") from exc
    return parse_lock_text(text, str(lock_path))


def parse_lock_text(text: str, where: str) -> dict[str, Any]:
    """The ``stages`` mapping of dvc.lock ``text``."""
    try:
        # BaseLoader builds only str/list/dict (no Python objects) and keeps every scalar a
        # string, so an all-digit md5 stays a hash instead of becoming an int.
        lock = parse_yaml(text, where, strings=True)
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise ModelFileError(f"cannot parse lock file {where}: {reason}") from exc
    stages = lock.get("stages") if isinstance(lock, dict) else None
    if not isinstance(stages, dict):
        raise ModelFileError(f"{where} is not a dvc.lock file (no 'stages' mapping)")
    return stages


def output_md5(lock_path: Path, out_path: str) -> str | None:
    """The md5 that ``lock_path`` records for output ``out_path``, or None if absent."""
    return _md5_in(_read_lock(lock_path), out_path)


def md5_in_lock_text(text: str, out_path: str, where: str = "dvc.lock") -> str | None:
    """The md5 that dvc.lock ``text`` (e.g. read from a git ref) records for ``out_path``."""
    return _md5_in(parse_lock_text(text, where), out_path)


def stage_entries(stage: Any, key: str) -> dict[str, Mapping[str, Any]]:
    """The ``deps`` or ``outs`` of one lock stage, by path in one spelling (the first entry
    of a path that is listed twice)."""
    items = stage.get(key) if isinstance(stage, Mapping) else None
    found: dict[str, Mapping[str, Any]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("path"), str):
            found.setdefault(normalise_out_path(item["path"]), item)
    return found


def _md5_in(stages: dict[str, Any], out_path: str) -> str | None:
    wanted = normalise_out_path(out_path)
    for stage in stages.values():
        out = stage_entries(stage, "outs").get(wanted)
        if out is not None:
            md5 = out.get("md5")
            return md5 if isinstance(md5, str) else None
    return None


def model_out_path(dvc_yaml: Path) -> str:
    """The model artifact's output path, as ``dvc_yaml`` declares it in ``artifacts:``."""
    from mergeml.config.paramfiles import load_yaml
    from mergeml.config.stage import artifact_path

    try:
        doc = load_yaml(dvc_yaml)
    except MergemlError as exc:
        raise ModelFileError(
            f"cannot find the model artifact: {exc} (give --out PATH, the dvc.lock output)"
        ) from exc
    path = artifact_path(doc)
    if path is None:
        raise ModelFileError(
            f"{dvc_yaml} declares no model artifact (artifacts: with a path); "
            "give --out PATH, the dvc.lock output to compare with"
        )
    return path


def expected_model_md5(lock_path: Path, out_path: str | None = None) -> tuple[str, str]:
    """``(output path, md5)`` that ``lock_path`` records for the model artifact.

    The output is ``out_path`` when given, else the model artifact of the ``dvc.yaml``
    beside the lock; a missing lock, entry or md5 is a ModelFileError.
    """
    stages = _read_lock(lock_path)  # a missing or broken lock is the first thing to report
    out = out_path or model_out_path(lock_path.with_name("dvc.yaml"))
    md5 = _md5_in(stages, out)
    if md5 is None:
        raise ModelFileError(f"{lock_path} records no md5 for output {out}")
    return out, md5


# --- one output's md5 by a scan of the text ---------------------------------------------------
#
# The scan follows the block structure DVC writes (`stages:` -> stage -> `outs:` -> items of
# `path:`/`md5:`) with one regex search per step, each skipping in C every line deeper than
# the level it reads. It reads a stage, and an `outs` item, only when the output's file name
# occurs in it. Anything it does not fully understand (flow style, anchors, tags, escapes,
# tabs, a value continued or nested on the next lines, a duplicate key) makes it unsure, and
# the caller parses the whole text. Like DVC, it trusts that the text is YAML: it does not
# validate the lines it skips.

_KEY = re.compile(r"([\w@./-]+):(?: +(.*))?")
_PLAIN = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@`\s](?:(?! #|: ).)*(?<!:)")
# Every pattern starts at a line's "\n" (a literal prefix: 5x faster than `^`); the text
# scanned is given one in front, so that its first line has one too.
_CONTENT = re.compile(r"\n( *)[^ \n#]")  # a line that is neither blank nor a comment
_STAGES = re.compile(r"\nstages: *(?=\n|$)")  # the top-level key, its value a block
_QUOTED = {"'": re.compile(r"'(?:[^'\n]|'')*'"), '"': re.compile(r'"(?:[^"\\\n]|\\.)*"')}
_NODE_START = re.compile(r"(?:^|[:-] ) *$", re.M)  # what a node's first character follows
_DVC_ITEM = re.compile(r"( *)- path: ([^\n]*)\n((?:\1  [a-z0-9_]+: [^\n]*\n)*)")
_Span = tuple[int, int]


@cache
def _at(indent: int) -> re.Pattern[str]:
    """A line indented by exactly ``indent`` (not a comment): its content."""
    return re.compile(rf"\n {{{indent}}}([^ \n#][^\n]*)")


@cache
def _upto(indent: int) -> re.Pattern[str]:
    """A line indented by at most ``indent`` (possessive: no backtracking)."""
    return re.compile(rf"\n( {{0,{indent}}}+)([^ \n][^\n]*)")


@cache
def _field(indent: int, key: str) -> re.Pattern[str]:
    """The line of ``key`` in a mapping indented by ``indent``: its one-line value, if any."""
    return re.compile(rf"\n {{{indent}}}{re.escape(key)}:(?: +([^\n]*?))? *(?=\n|$)")


@cache
def _item_rules(column: int) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """In an item whose keys start at ``column``: a line that is not one of its keys; a
    `path:` or `md5:` line whose value goes on (or nests) on the following lines."""
    less = rf" {{0,{column - 1}}}+[^ \n#]|" if column else ""
    stray = rf"\n(?:{less} {{{column}}}(?![\w@./-]+:(?: |\n|$))[^ \n#])"
    goes_on = rf"\n {{{column}}}(?:path|md5):[^\n]*(?:\n *(?=\n))*\n {{{column + 1}}} *[^ \n]"
    return re.compile(stray), re.compile(goes_on)


def _content(text: str, pos: int, end: int) -> int | None:
    """The indent of the first line from ``pos`` that is neither blank nor a comment."""
    found = _CONTENT.search(text, pos - 1, end)
    return len(found[1]) if found else None


def _past(text: str, pos: int, char: str) -> int | None:
    """Where to look for ``char`` again after ``pos``: past the node it starts there when
    that ends on its line; None when the node could hide a key from a line-by-line read."""
    if not _NODE_START.search(text, text.rfind("\n", 0, pos) + 1, pos):
        return pos + 1  # an ordinary character inside a plain scalar
    if char == "?" and text[pos + 1 : pos + 2] not in (" ", "\n", ""):
        return pos + 1  # `?x` is a plain scalar; an explicit key is `? x`
    if char in _QUOTED:
        found = _QUOTED[char].match(text, pos)
        return found.end() if found else None
    if char in "[{":
        end = text.find("\n", pos) % (len(text) + 1)
        line = text[pos:end]
        balanced = line.count("[") == line.count("]") and line.count("{") == line.count("}")
        return end if balanced else None
    return None  # an anchor, alias, tag or explicit key


def _plain_block(text: str) -> bool:
    """Whether no node starts with an anchor, alias, tag or explicit key, or with a quoted
    scalar or flow collection that goes on past its line (YAML lets those sit at their
    key's own indent, where they could pass for keys). Read left to right, skipping what
    quotes hold; one `find` per indicator (a regex character class scans 50x slower)."""
    after: dict[str, int] = {char: text.find(char) for char in "'\"&*!?[{"}
    while found := [(at, char) for char, at in after.items() if at >= 0]:
        at, char = min(found)
        past = _past(text, at, char)
        if past is None:
            return False
        for other, where in after.items():
            if 0 <= where < past:
                after[other] = text.find(other, past)
    return True


def _scalar(value: str | None) -> str | None:
    """A one-line plain or simply quoted scalar's text; None when it is anything else."""
    if not value:
        return None
    if _PLAIN.fullmatch(value):
        return value
    quote, inner = value[0], value[1:-1]
    if len(value) < 2 or value[-1] != quote:
        return None
    if quote == "'" and "'" not in inner.replace("''", ""):
        return inner.replace("''", "'")
    if quote == '"' and not any(c in inner for c in '"\\'):
        return inner
    return None


def _stages(text: str, start: int) -> tuple[list[_Span], int] | None:
    """The block of each stage of the `stages:` block from ``start``, and where the block
    ends; None when it is not a plain mapping of stage names to blocks."""
    indent = _content(text, start, len(text))
    if not indent:
        return None
    lines, end = [], len(text)
    for line in _upto(indent).finditer(text, start - 1):
        if line[2].startswith("#"):
            continue  # a comment, at any indent
        if not line[1]:
            end = line.start() + 1  # the next top-level key: the end of `stages:`
            break
        if len(line[1]) < indent:
            return None  # a line between the top level and the stages' own
        lines.append(line)
    names = [_KEY.fullmatch(line[2].rstrip(" ")) for line in lines]
    if not names or any(n is None or n[2] is not None for n in names):
        return None
    if len({n[1] for n in names if n}) != len(names):
        return None  # a stage twice: the parse keeps the last, in the first one's place
    ends = [line.start() + 1 for line in lines[1:]] + [end]
    return [(line.end() + 1, stop) for line, stop in zip(lines, ends, strict=True)], end


def _dvc_item(text: str, start: int, end: int) -> dict[str, str] | None:
    """``path`` and ``md5`` of an item as DVC writes it (`- path: ...`, then one-line
    `key: value` lines at one indent, nothing deeper); None for any other item."""
    found = _DVC_ITEM.fullmatch(text, start, end)
    if found is None:
        return None
    keys = [line.lstrip(" ").partition(": ") for line in found[3].splitlines()]
    md5s = [value for key, _, value in keys if key == "md5"]
    path, md5 = _scalar(found[2].rstrip(" ")), _scalar(md5s[0].rstrip(" ")) if md5s else None
    if (
        path is None
        or len(md5s) > 1
        or (md5s and md5 is None)
        or any(k == "path" for k, *_ in keys)
    ):
        return None
    return {"path": path, "md5": md5} if md5 is not None else {"path": path}


def _item(text: str, start: int, end: int) -> dict[str, str] | None:
    """``path`` and ``md5`` of the `- key: value` item at ``start``, or None when unsure."""
    simple = _dvc_item(text, start, end)
    if simple is not None:
        return simple
    block = text.find("\n", start) + 1 or end
    body = text[start:block].strip(" \n")
    rest = body[2:].lstrip(" ") if body.startswith("- ") else ""
    first = _KEY.fullmatch(rest)
    column = text.find(rest, start) - start if first else 0
    stray, goes_on = _item_rules(column)
    if first is None or stray.search(text, block - 1, end) or goes_on.search(text, start - 1, end):
        return None
    deeper = (_content(text, block, end) or 0) > column
    found: dict[str, str] = {}
    for key in ("path", "md5"):
        values = [first[2]] if first[1] == key else []
        values += [line[1] for line in _field(column, key).finditer(text, block - 1, end)]
        value = _scalar(values[0]) if len(values) == 1 else None
        if values and (value is None or (deeper and first[1] == key)):
            return None  # twice, not a plain one-line scalar, or going on below the dash
        if value is not None:
            found[key] = value
    return found


def _outs_items(text: str, start: int, end: int, field: int) -> list[_Span] | None:
    """Each item of the `outs:` block sequence from ``start`` in a stage whose keys are
    indented by ``field``; None when the block is not a plain sequence."""
    indent = _content(text, start, end)
    if indent is None or indent < field:
        return None
    starts: list[int] = []
    for line in _upto(indent).finditer(text, start - 1, end):
        at, body = len(line[1]), line[2]
        if body.startswith("#"):
            continue
        if at == indent and (body == "-" or body.startswith("- ")):
            starts.append(line.start() + 1)
        elif at <= field:
            end = line.start() + 1  # the next key of the stage: the block ends
            break
        else:
            return None
    return list(zip(starts, [*starts[1:], end], strict=True)) if starts else None


def _matching(
    text: str, items: list[_Span], wanted: tuple[str, str], quoted: bool
) -> list[str | None] | None:
    """The md5 of each `outs` item whose path is ``wanted``; None when unsure."""
    path, name = wanted
    md5s: list[str | None] = []
    for start, end in items:
        if not quoted and text.find(name, start, end) < 0:
            continue  # an item without the file name cannot be the output
        item = _item(text, start, end)
        if item is None:
            return None
        if normalise_out_path(item.get("path", "")) == path:
            md5s.append(item.get("md5"))
    return md5s


def _stage_outs(text: str, stage: _Span, wanted: tuple[str, str]) -> list[str | None] | None:
    """The md5 of every out of ``stage`` whose path is ``wanted``; None when unsure.

    Only a "..." scalar (escapes) can spell the output without its file name: without one,
    a stage, or the part of it after `outs:`, that lacks the name holds no such out.
    """
    start, end = stage
    quoted = text.find('"', start, end) >= 0
    if not quoted and text.find(wanted[1], start, end) < 0:
        return []
    indent = _content(text, start, end)
    outs = list(_field(indent, "outs").finditer(text, start - 1, end)) if indent else []
    if len(outs) != 1 or outs[0][1] is not None:
        return [] if not outs or (len(outs) == 1 and outs[0][1] == "[]") else None
    block = outs[0].end() + 1
    if not quoted and text.find(wanted[1], block, end) < 0:
        return []  # the name is only in what comes before `outs:` (deps, params)
    items = _outs_items(text, block, end, indent or 0)
    return None if items is None else _matching(text, items, wanted, quoted)


def scan_out_md5(text: str, out_path: str) -> tuple[bool, str | None]:
    """``(sure, md5)``: the md5 dvc.lock ``text`` records for ``out_path``, read by a scan.

    When ``sure`` is False the scan could not tell and the caller must parse the text; when
    True, ``md5`` is what `md5_in_lock_text` returns (None when the output is absent).
    """
    if "\t" in text or "\r" in text:
        return False, None
    text = "\n" + text
    if not _plain_block(text):
        return False, None
    stages = _STAGES.search(text)
    found_stages = _stages(text, stages.end() + 1) if stages else None
    if found_stages is None or _STAGES.search(text, found_stages[1] - 1):
        return False, None  # none, twice, or not a plain mapping
    blocks = found_stages[0]
    path = normalise_out_path(out_path)
    wanted, found = (path, posixpath.basename(path)), []
    if "'" in wanted[1] or '"' in wanted[1]:
        return False, None  # quoting would double or escape it: the name is not searchable
    for block in blocks:
        md5s = _stage_outs(text, block, wanted)
        if md5s is None:
            return False, None
        found += md5s
    return True, found[0] if found else None


def out_md5(text: str, out_path: str, where: str = "dvc.lock") -> str | None:
    """The md5 that dvc.lock ``text`` records for ``out_path``: scanned, else parsed.

    ModelFileError when the scan is unsure and the text does not parse.
    """
    sure, md5 = scan_out_md5(text, out_path)
    return md5 if sure else md5_in_lock_text(text, out_path, where)
