"""Rebuilt outputs whose bytes differ, compared with the committed ones by content.

JSON and CSV numbers and Parquet tables within the tolerance; a model by its predictions
on the table a stage scores it on; anything else must be identical.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mergeml.config.paramfiles import load_yaml
from mergeml.config.schema import VerifyTolerance
from mergeml.project import PARAMS_FILE
from mergeml.review.verify.lock import entries, norm
from mergeml.review.verify.verdict import Finding
from mergeml.review.verify.workspace import Repo, Workspace
from mergeml.review.verify_content import (
    Difference,
    compare_csv,
    compare_json,
    compare_predictions,
    compare_tables,
)

Md5s = tuple[str | None, str | None]  # (committed, rebuilt), when dvc.lock records them


def _verdict(path: str, diff: Difference, what: str = "") -> Finding:
    if diff.problem is not None:
        return Finding(path, "differs", f"{what}{diff.problem}")
    if diff.n_beyond:
        return Finding(path, "differs", f"{what}{diff.describe_beyond()}")
    return Finding(path, "equivalent", f"{what}{diff.summary()}")


def _suffix(path: str) -> str:
    return posixpath.splitext(path)[1].lower()


def _no_check(path: str) -> Finding:
    kind = _suffix(path) or "this"
    return Finding(path, "differs", f"bytes differ and {kind} files have no content check")


def _unavailable(path: str) -> str:
    return (
        f"the committed {path} is in neither the DVC cache nor the remote "
        "(`dvc push` it to compare by content)"
    )


def compare_text(path: str, committed: str, rebuilt: str, tolerance: VerifyTolerance) -> Finding:
    """A JSON or CSV/TSV file by its numbers within ``tolerance``; other text differs."""
    suffix = _suffix(path)
    if suffix == ".json":
        return _verdict(path, compare_json(committed, rebuilt, tolerance))
    if suffix in (".csv", ".tsv"):
        return _verdict(path, compare_csv(committed, rebuilt, tolerance))
    return _no_check(path)


def compare_git_file(repo: Repo, root: Path, path: str, tolerance: VerifyTolerance) -> Finding:
    """A changed file that git tracks (not DVC): params must match, reports by content."""
    if path == PARAMS_FILE:
        return Finding(path, "differs", "parameters must match exactly; run `dvc repro` and commit")
    committed = repo.read_text("HEAD", path)
    rebuilt_file = root / path
    if committed is None:
        return Finding(path, "differs", "written by the rebuild but not committed")
    if not rebuilt_file.is_file():
        return Finding(path, "differs", "committed but not written by the rebuild")
    rebuilt = rebuilt_file.read_text(encoding="utf-8", errors="replace")
    return compare_text(path, committed, rebuilt, tolerance)


def _rebuilt_files(root: Path, out: str) -> list[str]:
    target = root / out
    if not target.is_dir():
        return [out]
    return sorted(p.relative_to(root).as_posix() for p in target.rglob("*") if p.is_file())


def _summary(out: str, head: str, details: list[Finding]) -> Finding:
    """The output's finding from those of its files: the first difference, else all gaps."""
    worst = next((f for f in details if f.status == "differs"), None)
    if worst is not None:
        return Finding(out, "differs", head + f"{worst.path}: {worst.detail}")
    parts = "; ".join(f"{f.path}: {f.detail}" if f.path != out else f.detail for f in details)
    return Finding(out, "equivalent", head + (parts or "same content"))


def compare_cached(
    ws: Workspace,
    out: str,
    md5s: tuple[str, str],
    rebuilt_lock: Mapping[str, Any],
    tolerance: VerifyTolerance,
) -> Finding:
    """One DVC-cached output whose md5 changed: compare every file in it by content."""
    head = f"md5 {md5s[0][:8]} committed, {md5s[1][:8]} rebuilt; "
    rebuilt_files = _rebuilt_files(ws.root, out)
    committed_files = ws.list_committed(out)
    if committed_files is None:
        return Finding(out, "not compared", head + _unavailable(out))
    if sorted(committed_files) != rebuilt_files:
        only = sorted(set(committed_files) ^ set(rebuilt_files))
        return Finding(out, "differs", head + f"different files: {', '.join(only[:5])}")
    details: list[Finding] = []
    for rel in rebuilt_files:
        data = ws.read_committed(rel)
        if data is None:
            return Finding(out, "not compared", head + _unavailable(rel))
        if data != (ws.root / rel).read_bytes():
            known: Md5s = md5s if rel == out else (None, None)
            details.append(_compare_file(ws, rel, data, known, rebuilt_lock, tolerance))
    return _summary(out, head, details)


def _compare_model(
    ws: Workspace,
    rel: str,
    committed: bytes,
    md5s: Md5s,
    lock: Mapping[str, Any],
    tol: VerifyTolerance,
) -> Finding:
    table = _prediction_table(lock, rel)
    if table is None:
        return Finding(rel, "not compared", "no prepared table that the model is scored on")
    root = ws.root
    diff = compare_predictions(committed, root / rel, root / table, _target(root), md5s, tol)
    return _verdict(rel, diff, f"predictions on {table}: ")


def _compare_file(
    ws: Workspace,
    rel: str,
    committed: bytes,
    md5s: Md5s,
    rebuilt_lock: Mapping[str, Any],
    tol: VerifyTolerance,
) -> Finding:
    suffix = _suffix(rel)
    if suffix == ".parquet":
        return _verdict(rel, compare_tables(committed, ws.root / rel, tol))
    if suffix == ".skops":
        return _compare_model(ws, rel, committed, md5s, rebuilt_lock, tol)
    if suffix in (".json", ".csv", ".tsv"):
        text = committed.decode("utf-8", errors="replace")
        rebuilt = (ws.root / rel).read_text(encoding="utf-8", errors="replace")
        return compare_text(rel, text, rebuilt, tol)
    return _no_check(rel)


def _prediction_table(lock: Mapping[str, Any], model: str) -> str | None:
    """The table a stage scores ``model`` on: a Parquet dependency of a stage that
    depends on the model (the evaluate stage's test split)."""
    for stage in lock.values():
        deps = entries(stage, "deps")
        if norm(model) in deps:
            tables = [p for p in deps if p.endswith(".parquet")]
            if tables:
                return tables[0]
    return None


def _target(root: Path) -> str | None:
    """The target column of params.yaml ``data.target`` (left out of the features)."""
    params = load_yaml(root / PARAMS_FILE)
    data = params.get("data") if isinstance(params, Mapping) else None
    target = data.get("target") if isinstance(data, Mapping) else None
    return str(target) if target is not None else None
