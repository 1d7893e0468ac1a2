"""The house limits (README, Architecture): small modules, short functions, thin stages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.projects import ROOT

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_STAGE_LINES = 60
SOURCES = sorted((ROOT / "src/mergeml").rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_no_module_is_longer_than_the_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_rel(path)} has {lines} lines"


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{_rel(path)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_is_longer_than_the_limit() -> None:
    found = [f for path in SOURCES for f in _long_functions(path)]
    assert found == []


@pytest.mark.parametrize("path", sorted((ROOT / "pipelines").glob("*.py")), ids=_rel)
def test_stage_scripts_are_thin(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_STAGE_LINES, f"{_rel(path)} has {lines} lines"
