"""dvc.lock, committed and rebuilt: sources must match exactly, changed outputs are listed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mergeml.config.lockfile import normalise_out_path, parse_lock_text, stage_entries
from mergeml.project import LOCK_FILE
from mergeml.review.verify.verdict import Finding

OutHashes = dict[str, tuple[str, str]]  # output path -> (committed md5, rebuilt md5)


def parse_lock(text: str | None) -> dict[str, Any]:
    """The stages of a dvc.lock text (empty when there is none)."""
    return parse_lock_text(text, LOCK_FILE) if text is not None else {}


def norm(path: object) -> str:
    """A path in one spelling: forward slashes, no ``./`` or ``a/../``."""
    return normalise_out_path(str(path))


entries = stage_entries  # the ``deps``/``outs`` of a lock stage, by normalised path


def entry_hash(entry: Mapping[str, Any] | None) -> str | None:
    """The md5 (or checksum, or etag) of a lock entry, or None."""
    if entry is None:
        return None
    value = entry.get("md5") or entry.get("checksum") or entry.get("etag")
    return str(value) if value is not None else None


def inside(path: str, parent: str) -> bool:
    """Whether ``path`` is ``parent`` or lies under it."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def covers_any(out: str, files: list[str]) -> bool:
    """Whether output ``out`` is, or holds, one of ``files``."""
    return any(inside(norm(f), out) for f in files)


def _short(md5: str | None) -> str:
    return "absent" if md5 is None else f"md5 {md5[:8]}"


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(node, Mapping):
        return {prefix: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _param_findings(where: str, old: Any, new: Any) -> list[Finding]:
    if old == new:
        return []
    flat_old, flat_new = _flat(old), _flat(new)
    keys = sorted(k for k in set(flat_old) | set(flat_new) if flat_old.get(k) != flat_new.get(k))
    shown = ", ".join(keys[:5]) + (f" (+{len(keys) - 5} more)" if len(keys) > 5 else "")
    return [Finding(LOCK_FILE, "differs", f"{where}: params differ: {shown or '(structure)'}")]


def _source_findings(
    where: str, old: Mapping[str, Any], new: Mapping[str, Any], produced: set[str]
) -> list[Finding]:
    """Every dependency that no stage produces must have the same hash on both sides."""
    old_deps, new_deps = entries(old, "deps"), entries(new, "deps")
    findings = []
    for path in sorted(set(old_deps) | set(new_deps)):
        if any(inside(path, p) for p in produced):
            continue
        before, after = entry_hash(old_deps.get(path)), entry_hash(new_deps.get(path))
        if before != after:
            detail = (
                f"{where}: source {path} is {_short(after)} here but {_short(before)} "
                "in the committed lock (code, params or data changed after the build)"
            )
            findings.append(Finding(LOCK_FILE, "differs", detail))
    return findings


def _output_changes(
    where: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[list[Finding], OutHashes]:
    """Outputs on one side only (failures) and outputs whose hash changed."""
    old_outs, new_outs = entries(old, "outs"), entries(new, "outs")
    findings, outs = [], {}
    for path in sorted(set(old_outs) | set(new_outs)):
        before, after = entry_hash(old_outs.get(path)), entry_hash(new_outs.get(path))
        if before is None or after is None:
            side = "committed" if after is None else "rebuilt"
            detail = f"{where}: output {path} is only in the {side} lock"
            findings.append(Finding(path, "differs", detail))
        elif before != after:
            outs[path] = (before, after)
    return findings, outs


def _compare_stage(
    name: str, old: Mapping[str, Any], new: Mapping[str, Any], produced: set[str]
) -> tuple[list[Finding], OutHashes]:
    where = f"{LOCK_FILE}: stage '{name}'"
    findings = []
    if old.get("cmd") != new.get("cmd"):
        findings.append(Finding(LOCK_FILE, "differs", f"{where}: its command changed"))
    findings += _param_findings(where, old.get("params"), new.get("params"))
    findings += _source_findings(where, old, new, produced)
    out_findings, outs = _output_changes(where, old, new)
    return findings + out_findings, outs


def compare_locks(
    committed: Mapping[str, Any], rebuilt: Mapping[str, Any]
) -> tuple[list[Finding], OutHashes]:
    """Source differences (failures) and the outputs whose hashes changed.

    A dependency that some stage produces is an intermediate output: its difference is
    judged where it is produced, by content. Every other dependency, the command and the
    parameters of each stage must match exactly.
    """
    findings: list[Finding] = []
    produced = {p for stage in committed.values() for p in entries(stage, "outs")}
    outs: OutHashes = {}
    for name in sorted(set(committed) | set(rebuilt)):
        old, new = committed.get(name), rebuilt.get(name)
        if old is None or new is None:
            side = "committed" if new is None else "rebuilt"
            detail = f"{LOCK_FILE}: stage '{name}' is only in the {side} lock"
            findings.append(Finding(LOCK_FILE, "differs", detail))
            continue
        stage_findings, stage_outs = _compare_stage(name, old, new, produced)
        findings += stage_findings
        outs.update(stage_outs)
    return findings, outs


def promoted_artifact(lock: Mapping[str, Any], model_out: str | None) -> dict[str, str]:
    """``{model path: md5}`` as the committed lock records it (empty when it does not)."""
    if model_out is None:
        return {}
    for stage in lock.values():
        md5 = entry_hash(entries(stage, "outs").get(norm(model_out)))
        if md5:
            return {norm(model_out): md5}
    return {}
