"""`verify_built`: the workspace after `dvc repro` against what HEAD records."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mergeml.config.schema import VerifyTolerance
from mergeml.project import LOCK_FILE
from mergeml.review.verify.lock import (
    compare_locks,
    covers_any,
    norm,
    parse_lock,
    promoted_artifact,
)
from mergeml.review.verify.outputs import compare_cached, compare_git_file
from mergeml.review.verify.verdict import Finding, Verdict
from mergeml.review.verify.workspace import Repo, Workspace


def _lock_findings(
    ws: Workspace, committed_lock: Mapping[str, Any], changed: list[str], tol: VerifyTolerance
) -> list[Finding]:
    """The lock's source differences, then each changed DVC output compared by content."""
    rebuilt_lock = parse_lock((ws.root / LOCK_FILE).read_text(encoding="utf-8"))
    findings, outs = compare_locks(committed_lock, rebuilt_lock)
    cached = {path: md5s for path, md5s in outs.items() if not covers_any(path, changed)}
    return findings + [
        compare_cached(ws, path, md5s, rebuilt_lock, tol) for path, md5s in sorted(cached.items())
    ]


def verify_built(
    repo: Repo,
    targets: list[str],
    tolerance: VerifyTolerance,
    workspace: Callable[[], Workspace],
    model_out: str | None,
) -> Verdict:
    """Compare the workspace after `dvc repro` with HEAD (see `mergeml.review.verify`).

    ``workspace`` is only called when some output differs (it may import DVC).
    """
    changed = repo.changed(targets)
    committed_lock = parse_lock(repo.read_text("HEAD", LOCK_FILE))
    promoted = promoted_artifact(committed_lock, model_out)
    if not changed:
        shown = ", ".join(targets)
        return Verdict((Finding(shown, "identical", "as committed"),), tolerance, promoted)
    ws = workspace()
    findings = (
        _lock_findings(ws, committed_lock, changed, tolerance) if LOCK_FILE in changed else []
    )
    findings += [compare_git_file(repo, ws.root, p, tolerance) for p in changed if p != LOCK_FILE]
    same = [t for t in targets if not covers_any(norm(t), changed)]
    findings += [Finding(t, "identical", "as committed") for t in same]
    return Verdict(tuple(findings), tolerance, promoted)
