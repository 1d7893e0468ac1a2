"""What is reviewed is what is built, on real hardware.

`verify_built` compares a fresh `dvc repro` with what the commit records. Identical bytes
are the fast path. Where bytes differ, sources (code, params, data files: every
dependency of a stage that no stage produces) must still match exactly, and outputs whose
bytes legitimately depend on floating point are compared by content within the tolerance
of ``evaluate.verify``: JSON and CSV numbers, prepared tables by value, and a model by its
predictions on the test split. The promoted artifact stays the one the committed
dvc.lock records.

Modules: `verdict` (findings, the verdict and its JSON document), `lock` (dvc.lock),
`outputs` (by content, with `review.verify_content`), `workspace` (git and DVC reads),
`built` (`verify_built`), `render` (what the command prints).
"""

from mergeml.review.verify.built import verify_built
from mergeml.review.verify.lock import compare_locks
from mergeml.review.verify.render import failure_line, render_text
from mergeml.review.verify.verdict import (
    HEADLINES,
    Finding,
    Status,
    Verdict,
    missing_verdict,
    read_verdict,
)
from mergeml.review.verify.workspace import Repo, Workspace, dvc_workspace

__all__ = [
    "HEADLINES",
    "Finding",
    "Repo",
    "Status",
    "Verdict",
    "Workspace",
    "compare_locks",
    "dvc_workspace",
    "failure_line",
    "missing_verdict",
    "read_verdict",
    "render_text",
    "verify_built",
]
