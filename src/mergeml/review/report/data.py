"""The data a model was built from: `prepare` outputs in dvc.lock and reports/data.json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from mergeml.project import LOCK_FILE, Side, safe_path
from mergeml.review.report.model import DataSection, DataSummary, SourceChange, SourceFile
from mergeml.review.report.read import json_doc
from mergeml.yamlread import parse_yaml

DATA_FILE = "reports/data.json"
SPLITS = ("train", "test")
HEX = frozenset("0123456789abcdef")


def _stage_outs(lock: Any, stage: str) -> Any:
    stages = lock.get("stages") if isinstance(lock, Mapping) else None
    found = stages.get(stage) if isinstance(stages, Mapping) else None
    return found.get("outs") if isinstance(found, Mapping) else None


def prepare_outs(side: Side) -> dict[str, str] | None:
    """``{path: md5}`` of the ``prepare`` stage outputs in dvc.lock, or None."""
    text = side.read(LOCK_FILE)
    try:
        where = f"{LOCK_FILE} at {side.short}"
        lock = parse_yaml(text, where, strings=True) if text is not None else None
    except yaml.YAMLError:
        return None
    outs = _stage_outs(lock, "prepare")
    if not isinstance(outs, list):
        return None
    return {
        str(o["path"]): str(o.get("md5")) for o in outs if isinstance(o, Mapping) and "path" in o
    }


def source_file(doc: Mapping[str, Any]) -> SourceFile | None:
    """The recorded data source file when well formed, else None."""
    entry = doc.get("source_file")
    if not isinstance(entry, Mapping):
        return None
    path, md5, size = entry.get("path"), entry.get("md5"), entry.get("size")
    if not isinstance(path, str) or safe_path(path) is None:
        return None
    if not isinstance(md5, str) or len(md5) != 32 or set(md5) - HEX:
        return None
    return SourceFile(path, md5, size if isinstance(size, int) else None)


def _splits(value: object) -> dict[str, Any] | None:
    """The train and test entries of a per-split mapping, or None when not a mapping."""
    if not isinstance(value, Mapping):
        return None
    return {split: value[split] for split in SPLITS if split in value}


def data_summary(side: Side) -> DataSummary | None:
    """Train/test rows, class balance and source file from reports/data.json, or None."""
    doc = json_doc(side.read(DATA_FILE))
    if not isinstance(doc, Mapping):
        return None
    return DataSummary(
        rows=_splits(doc.get("rows")),
        class_balance=_splits(doc.get("class_balance")),
        source_file=source_file(doc),
    )


def source_change(base: DataSummary | None, head: DataSummary | None) -> SourceChange | None:
    """Base and head source files and whether the file's md5 changed (None: not comparable)."""
    before, after = (s.source_file if s is not None else None for s in (base, head))
    if before is None and after is None:
        return None
    changed = None if before is None or after is None else before.md5 != after.md5
    return SourceChange(before, after, changed)


def data_section(base: Side, head: Side) -> DataSection:
    """Whether the prepared data changed, and each side's summary and source file."""
    before, after = prepare_outs(base), prepare_outs(head)
    changed = None if before is None or after is None else before != after
    base_summary, head_summary = data_summary(base), data_summary(head)
    return DataSection(
        changed=changed,
        base_outs=before,
        head_outs=after,
        base=base_summary,
        head=head_summary,
        source=source_change(base_summary, head_summary),
    )
