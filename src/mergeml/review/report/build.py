"""`build_report`: gather every section of the report for a base and a head."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mergeml.project import DVC_YAML, Side, git_side, layout_from_text, workspace_side
from mergeml.review.report.compare import gates_section, metrics_section, params_section, verdict
from mergeml.review.report.curves import confusion_section, curves_section
from mergeml.review.report.data import data_section
from mergeml.review.report.model import Build, Report, Revision
from mergeml.review.report.read import read_metrics
from mergeml.scm import Git

ARTIFACT_NOTE = (
    "The full `dvc plots diff` HTML (every plot, interactive) is attached to this CI run "
    "as an artifact."
)


def _revision(side: Side) -> Revision:
    return Revision(side.ref, side.sha, side.short)


def build_report(
    repo: Git,
    base: str,
    head: str | None,
    root: Path,
    build: Mapping[str, Any] | None = None,
) -> Report:
    """Compare commit ``base`` with commit ``head`` (None: the workspace files under ``root``).

    ``build`` is a `mergeml verify-built --out` verdict (`review.verify.read_verdict`),
    shown as the Build section. Only an unknown git ref raises (`ScmError`).
    """
    before = git_side(repo, base)
    after = workspace_side(root) if head is None else git_side(repo, head)
    layout = layout_from_text(after.read(DVC_YAML) or before.read(DVC_YAML))
    raw = (read_metrics(before, layout.metrics), read_metrics(after, layout.metrics))
    metrics = metrics_section(layout.metrics, before, after, raw)
    gates = gates_section(after, before, raw)
    return Report(
        model=layout.model,
        base=_revision(before),
        head=_revision(after),
        verdict=verdict(gates, metrics.head_available),
        build=Build.from_document(build) if build is not None else None,
        params=params_section(before, after, layout.params_files),
        metrics=metrics,
        gates=gates,
        data=data_section(before, after),
        curves=curves_section(before, after),
        confusion=confusion_section(before, after),
        notes=(ARTIFACT_NOTE,),
    )
