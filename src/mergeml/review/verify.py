"""What is reviewed is what is built, on real hardware.

`verify_built` compares a fresh `dvc repro` with what the commit records. Identical bytes
are the fast path. Where bytes differ, sources (code, params, data files: every
dependency of a stage that no stage produces) must still match exactly, and outputs whose
bytes legitimately depend on floating point are compared by content within the tolerance
of ``evaluate.verify``: JSON and CSV numbers, prepared tables by value, and a model by its
predictions on the test split. The promoted artifact stays the one the committed
dvc.lock records.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from mergeml.config.schema import VerifyTolerance
from mergeml.review.verify_content import (
    Difference,
    compare_csv,
    compare_json,
    compare_predictions,
    compare_tables,
)

log = logging.getLogger(__name__)

Status = Literal["identical", "equivalent", "differs", "not compared"]
LOCK_FILE = "dvc.lock"
PARAMS_FILE = "params.yaml"
HEADLINES = {
    "identical": "identical",
    "equivalent": "equivalent within tolerance (rebuilt on different hardware)",
    "differs": "differs from what was committed",
    "unknown": "not verified",
}


class Repo(Protocol):
    """What verification needs from git (mergeml.scm.Git provides it)."""

    def changed(self, paths: list[str]) -> list[str]: ...

    def read_text(self, ref: str, path: str) -> str | None: ...

    def resolve(self, ref: str) -> str: ...


@dataclass(frozen=True)
class Finding:
    path: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...]
    tolerance: VerifyTolerance
    promoted: dict[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> Literal["identical", "equivalent", "differs"]:
        statuses = {f.status for f in self.findings}
        if "differs" in statuses:
            return "differs"
        return "equivalent" if statuses - {"identical"} else "identical"

    @property
    def headline(self) -> str:
        return HEADLINES[self.outcome]

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "headline": self.headline,
            "tolerance": self.tolerance.model_dump(),
            "findings": [f.as_dict() for f in self.findings],
            "promoted": dict(self.promoted),
        }


# A reader of the committed content of a DVC-cached output: bytes, or None when the object
# is in neither the cache nor the remote.
CommittedReader = Callable[[str], bytes | None]
CommittedLister = Callable[[str], list[str] | None]


@dataclass(frozen=True)
class Workspace:
    """Where the rebuilt outputs are, and how to read the committed ones."""

    root: Path
    read_committed: CommittedReader
    list_committed: CommittedLister


def verify_built(
    repo: Repo,
    targets: list[str],
    tolerance: VerifyTolerance,
    workspace: Callable[[], Workspace],
    model_out: str | None,
) -> Verdict:
    """Compare the workspace after `dvc repro` with HEAD; see the module docstring.

    ``workspace`` is only called when some output differs (it may import DVC).
    """
    changed = repo.changed(targets)
    committed_lock = _lock(repo.read_text("HEAD", LOCK_FILE))
    promoted = _promoted(committed_lock, model_out)
    if not changed:
        shown = ", ".join(targets)
        return Verdict((Finding(shown, "identical", "as committed"),), tolerance, promoted)
    ws = workspace()
    findings: list[Finding] = []
    if LOCK_FILE in changed:
        rebuilt_lock = _lock((ws.root / LOCK_FILE).read_text(encoding="utf-8"))
        lock_findings, outs = compare_locks(committed_lock, rebuilt_lock)
        findings += lock_findings
        cached = {p: md5s for p, md5s in outs.items() if not _covers_any(p, changed)}
        findings += [
            _compare_cached(ws, path, md5s, rebuilt_lock, tolerance)
            for path, md5s in sorted(cached.items())
        ]
    for path in changed:
        if path == LOCK_FILE:
            continue
        findings.append(_compare_git_file(repo, ws.root, path, tolerance))
    same = [t for t in targets if not _covers_any(_norm(t), changed)]
    findings += [Finding(t, "identical", "as committed") for t in same]
    return Verdict(tuple(findings), tolerance, promoted)


# --- dvc.lock -----------------------------------------------------------------------------------


def _lock(text: str | None) -> dict[str, Any]:
    from mergeml.config.lockfile import parse_lock_text

    return parse_lock_text(text, LOCK_FILE) if text is not None else {}


def _norm(path: str) -> str:
    return posixpath.normpath(str(path).replace("\\", "/"))


def _entries(stage: Any, key: str) -> dict[str, Mapping[str, Any]]:
    items = stage.get(key) if isinstance(stage, Mapping) else None
    listed = items if isinstance(items, list) else []
    return {
        _norm(item["path"]): item for item in listed if isinstance(item, Mapping) and "path" in item
    }


def _hash(entry: Mapping[str, Any] | None) -> str | None:
    if entry is None:
        return None
    value = entry.get("md5") or entry.get("checksum") or entry.get("etag")
    return str(value) if value is not None else None


def _inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _covers_any(out: str, files: list[str]) -> bool:
    return any(_inside(_norm(f), out) for f in files)


def compare_locks(
    committed: Mapping[str, Any], rebuilt: Mapping[str, Any]
) -> tuple[list[Finding], dict[str, tuple[str | None, str | None]]]:
    """Source differences (failures) and the outputs whose hashes changed.

    A dependency that some stage produces is an intermediate output: its difference is
    judged where it is produced, by content. Every other dependency, the command and the
    parameters of each stage must match exactly.
    """
    findings: list[Finding] = []
    produced = {p for stage in committed.values() for p in _entries(stage, "outs")}
    outs: dict[str, tuple[str | None, str | None]] = {}
    for name in sorted(set(committed) | set(rebuilt)):
        where = f"{LOCK_FILE}: stage '{name}'"
        old, new = committed.get(name), rebuilt.get(name)
        if old is None or new is None:
            side = "committed" if new is None else "rebuilt"
            findings.append(Finding(LOCK_FILE, "differs", f"{where} is only in the {side} lock"))
            continue
        if old.get("cmd") != new.get("cmd"):
            findings.append(Finding(LOCK_FILE, "differs", f"{where}: its command changed"))
        findings += _param_findings(where, old.get("params"), new.get("params"))
        old_deps, new_deps = _entries(old, "deps"), _entries(new, "deps")
        for path in sorted(set(old_deps) | set(new_deps)):
            if any(_inside(path, p) for p in produced):
                continue
            before, after = _hash(old_deps.get(path)), _hash(new_deps.get(path))
            if before != after:
                findings.append(
                    Finding(
                        LOCK_FILE,
                        "differs",
                        f"{where}: source {path} is {_short(after)} here but {_short(before)} "
                        "in the committed lock (code, params or data changed after the build)",
                    )
                )
        old_outs, new_outs = _entries(old, "outs"), _entries(new, "outs")
        for path in sorted(set(old_outs) | set(new_outs)):
            before, after = _hash(old_outs.get(path)), _hash(new_outs.get(path))
            if before is None or after is None:
                side = "committed" if after is None else "rebuilt"
                findings.append(
                    Finding(path, "differs", f"{where}: output {path} is only in the {side} lock")
                )
            elif before != after:
                outs[path] = (before, after)
    return findings, outs


def _param_findings(where: str, old: Any, new: Any) -> list[Finding]:
    if old == new:
        return []
    flat_old, flat_new = _flat(old), _flat(new)
    keys = sorted(k for k in set(flat_old) | set(flat_new) if flat_old.get(k) != flat_new.get(k))
    shown = ", ".join(keys[:5]) + (f" (+{len(keys) - 5} more)" if len(keys) > 5 else "")
    return [Finding(LOCK_FILE, "differs", f"{where}: params differ: {shown or '(structure)'}")]


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(node, Mapping):
        return {prefix: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _short(md5: str | None) -> str:
    return "absent" if md5 is None else f"md5 {md5[:8]}"


def _promoted(lock: Mapping[str, Any], model_out: str | None) -> dict[str, str]:
    if model_out is None:
        return {}
    for stage in lock.values():
        entry = _entries(stage, "outs").get(_norm(model_out))
        md5 = _hash(entry)
        if md5:
            return {_norm(model_out): md5}
    return {}


# --- outputs by content -------------------------------------------------------------------------


def _verdict(path: str, diff: Difference, what: str = "") -> Finding:
    if diff.problem is not None:
        return Finding(path, "differs", f"{what}{diff.problem}")
    if diff.n_beyond:
        return Finding(path, "differs", f"{what}{diff.describe_beyond()}")
    return Finding(path, "equivalent", f"{what}{diff.summary()}")


def _compare_git_file(repo: Repo, root: Path, path: str, tolerance: VerifyTolerance) -> Finding:
    if path == PARAMS_FILE:
        return Finding(path, "differs", "parameters must match exactly; run `dvc repro` and commit")
    committed = repo.read_text("HEAD", path)
    rebuilt_file = root / path
    if committed is None:
        return Finding(path, "differs", "written by the rebuild but not committed")
    if not rebuilt_file.is_file():
        return Finding(path, "differs", "committed but not written by the rebuild")
    rebuilt = rebuilt_file.read_text(encoding="utf-8", errors="replace")
    return _compare_text(path, committed, rebuilt, tolerance)


def _compare_text(path: str, committed: str, rebuilt: str, tolerance: VerifyTolerance) -> Finding:
    suffix = posixpath.splitext(path)[1].lower()
    if suffix == ".json":
        return _verdict(path, compare_json(committed, rebuilt, tolerance))
    if suffix in (".csv", ".tsv"):
        return _verdict(path, compare_csv(committed, rebuilt, tolerance))
    return Finding(
        path, "differs", f"bytes differ and {suffix or 'this'} files have no content check"
    )


def _no_content_check(path: str) -> Finding:
    kind = posixpath.splitext(path)[1].lower() or "this kind of"
    return Finding(path, "differs", f"bytes differ and {kind} files have no content comparison")


def _compare_cached(
    ws: Workspace,
    out: str,
    md5s: tuple[str | None, str | None],
    rebuilt_lock: Mapping[str, Any],
    tolerance: VerifyTolerance,
) -> Finding:
    """One DVC-cached output whose md5 changed: compare every file in it by content."""
    head = f"md5 {_short(md5s[0])[4:]} committed, {_short(md5s[1])[4:]} rebuilt; "
    target = ws.root / out
    rebuilt_files = (
        sorted(p.relative_to(ws.root).as_posix() for p in target.rglob("*") if p.is_file())
        if target.is_dir()
        else [out]
    )
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
        rebuilt = (ws.root / rel).read_bytes()
        if data == rebuilt:
            continue
        known = md5s if rel == out else (None, None)
        details.append(_compare_file(ws, rel, data, known, rebuilt_lock, tolerance))
    worst = next((f for f in details if f.status == "differs"), None)
    if worst is not None:
        return Finding(out, "differs", head + f"{worst.path}: {worst.detail}")
    parts = "; ".join(f"{f.path}: {f.detail}" if f.path != out else f.detail for f in details)
    return Finding(out, "equivalent", head + (parts or "same content"))


def _unavailable(path: str) -> str:
    return (
        f"the committed {path} is in neither the DVC cache nor the remote "
        "(`dvc push` it to compare by content)"
    )


def _compare_file(
    ws: Workspace,
    rel: str,
    committed: bytes,
    md5s: tuple[str | None, str | None],
    rebuilt_lock: Mapping[str, Any],
    tol: VerifyTolerance,
) -> Finding:
    suffix = posixpath.splitext(rel)[1].lower()
    if suffix == ".parquet":
        return _verdict(rel, compare_tables(committed, ws.root / rel, tol))
    if suffix == ".skops":
        table = _prediction_table(rebuilt_lock, rel)
        if table is None:
            return Finding(rel, "not compared", "no prepared table that the model is scored on")
        diff = compare_predictions(
            committed, ws.root / rel, ws.root / table, _target(ws.root), md5s, tol
        )
        return _verdict(rel, diff, f"predictions on {table}: ")
    if suffix in (".json", ".csv", ".tsv"):
        text = committed.decode("utf-8", errors="replace")
        rebuilt = (ws.root / rel).read_text(encoding="utf-8", errors="replace")
        return _compare_text(rel, text, rebuilt, tol)
    return Finding(
        rel, "differs", f"bytes differ and {suffix or 'this'} files have no content check"
    )


def _prediction_table(lock: Mapping[str, Any], model: str) -> str | None:
    """The table a stage scores ``model`` on: a Parquet dependency of a stage that
    depends on the model (the evaluate stage's test split)."""
    for stage in lock.values():
        deps = _entries(stage, "deps")
        if _norm(model) in deps:
            tables = [p for p in deps if p.endswith(".parquet")]
            if tables:
                return tables[0]
    return None


def _target(root: Path) -> str | None:
    from mergeml.config.compose import load_yaml

    params = load_yaml(root / PARAMS_FILE)
    data = params.get("data") if isinstance(params, Mapping) else None
    target = data.get("target") if isinstance(data, Mapping) else None
    return str(target) if target is not None else None


def dvc_workspace(root: Path, rev: str) -> Workspace:
    """Read committed outputs at ``rev`` through DVC: the local cache, else the remote."""
    from dvc.exceptions import DvcException
    from dvc.fs import DVCFileSystem

    fs = DVCFileSystem(repo=str(root), rev=rev)
    missing = (DvcException, OSError, KeyError, ValueError)

    def read(path: str) -> bytes | None:
        try:
            with fs.open(path, "rb") as handle:
                data: bytes = handle.read()
                return data
        except missing as exc:
            log.debug("committed %s unavailable: %s", path, exc)
            return None

    def listing(out: str) -> list[str] | None:
        try:
            if fs.isdir(out):
                return sorted(str(p).lstrip("/") for p in fs.find(out))
            return [out] if fs.exists(out) else None
        except missing as exc:
            log.debug("committed %s unavailable: %s", out, exc)
            return None

    return Workspace(root, read, listing)


def render_text(verdict: Verdict) -> list[str]:
    """The lines `mergeml verify-built` prints."""
    lines = [f"verify-built: {verdict.headline}"]
    lines += [f"  {f.status:<13} {f.path}: {f.detail}" for f in verdict.findings]
    tol = verdict.tolerance
    if verdict.outcome != "identical":
        lines.append(
            f"tolerance: absolute {tol.absolute:g}, relative {tol.relative:g} "
            "(params.yaml evaluate.verify)"
        )
    for path, md5 in verdict.promoted.items():
        lines.append(f"promoted artifact: {path} md5 {md5} (as the committed {LOCK_FILE} records)")
    return lines


def failure_line(verdict: Verdict) -> str:
    """One line naming the first difference, for the error boundary."""
    bad = [f for f in verdict.findings if f.status == "differs"]
    first, others = bad[0], sorted({f.path for f in bad[1:]} - {bad[0].path})
    more = f"; also {', '.join(others)} (see above)" if others else ""
    return f"not what was committed: {first.path}: {first.detail}{more}"


def missing_verdict(where: str) -> dict[str, Any]:
    """The Build section when `verify-built` wrote no verdict (it did not run or finish)."""
    detail = "no verdict written: `mergeml verify-built` did not run or did not finish"
    return {
        "outcome": "unknown",
        "headline": HEADLINES["unknown"],
        "findings": [Finding(where, "not compared", detail).as_dict()],
        "promoted": {},
    }


def read_verdict(text: str, where: str) -> dict[str, Any]:
    """A `verify-built --out` document, checked for shape (it ends up in a PR comment)."""
    import json

    from mergeml.errors import VerifyError

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VerifyError(f"{where} is not JSON: {exc.msg} at line {exc.lineno}") from exc
    findings = doc.get("findings") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or doc.get("outcome") not in HEADLINES
        or not isinstance(findings, list)
        or not all(
            isinstance(f, dict) and all(isinstance(f.get(k), str) for k in Finding.__annotations__)
            for f in findings
        )
        or not isinstance(doc.get("promoted", {}), dict)
    ):
        raise VerifyError(f"{where} is not a `mergeml verify-built --out` verdict")
    return {
        "outcome": doc["outcome"],
        "headline": HEADLINES[doc["outcome"]],
        "findings": [{k: f[k] for k in Finding.__annotations__} for f in findings],
        "promoted": {str(k): str(v) for k, v in doc.get("promoted", {}).items()},
    }
