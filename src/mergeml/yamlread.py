"""Every YAML document mergeml reads, from git or from a user, is read here, bounded.

YAML aliases let a 2 KB file describe a billion nodes: PyYAML builds the shared
objects cheaply, and whatever walks them afterwards (a report, a card, OmegaConf) runs
out of memory. So a document is composed to its node graph first, its expanded size is
counted without expanding it, and only a document within the bounds is constructed.
Syntax errors become one line with the file, line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mergeml.errors import YamlLimitError

MAX_CHARS = 16 * 1024 * 1024  # a dvc.lock of ~100k outputs is ~15 MB
MAX_ALIAS_NODES = 100_000  # nodes that aliases may add on top of the written ones
MAX_DEPTH = 200

_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STRINGS = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def _expanded_size(root: yaml.Node, where: str) -> tuple[int, int]:
    """(distinct nodes, nodes once every alias is expanded); refuses cycles and depth."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise YamlLimitError(f"{where}: YAML refers to itself (a recursive alias)")
        if depth > MAX_DEPTH:
            raise YamlLimitError(f"{where}: YAML nests deeper than {MAX_DEPTH} levels")
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        open_nodes.discard(key)
        sizes[key] = total
        return total

    expanded = size(root, 0)
    return len(sizes), expanded


def parse_yaml(text: str, where: str, *, strings: bool = False) -> Any:
    """The document in ``text`` (None when empty), read within the bounds.

    ``strings`` keeps every scalar a string (for dvc.lock: an all-digit md5 stays a
    hash). Raises YamlLimitError beyond the bounds and yaml.YAMLError on bad syntax.
    """
    if len(text) > MAX_CHARS:
        raise YamlLimitError(
            f"{where}: {len(text):,} characters of YAML; the limit is {MAX_CHARS:,}"
        )
    loader = (_STRINGS if strings else _SAFE)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        distinct, expanded = _expanded_size(node, where)
        if expanded - distinct > MAX_ALIAS_NODES:
            raise YamlLimitError(
                f"{where}: YAML aliases expand {distinct:,} nodes to {expanded:,};"
                f" at most {MAX_ALIAS_NODES:,} may come from aliases"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def problem(exc: yaml.YAMLError, where: str, text: str | None = None) -> str:
    """One line for a YAML syntax error: ``where:LINE:COLUMN: what is wrong``."""
    mark = getattr(exc, "problem_mark", None)
    at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark is not None else where
    what = " ".join(str(getattr(exc, "problem", None) or exc).split())
    if mark is not None and text is not None:
        lines = text.splitlines()
        line = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in line[: mark.column + 1]:
            return f"{at}: invalid YAML: a tab character; YAML indents with spaces only"
    context, started = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and started is not None:
        what += f" ({context} started at line {started.line + 1}, column {started.column + 1})"
    return f"{at}: invalid YAML: {what}"


def read_yaml(path: Path, *, strings: bool = False) -> Any:
    """The YAML document in file ``path``, bounded; YamlLimitError or yaml.YAMLError."""
    if path.stat().st_size > MAX_CHARS * 4:  # UTF-8: at most 4 bytes a character
        raise YamlLimitError(f"{path}: {path.stat().st_size:,} bytes is too large for YAML")
    return parse_yaml(path.read_text(encoding="utf-8"), str(path), strings=strings)
