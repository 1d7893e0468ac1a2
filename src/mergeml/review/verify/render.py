"""What `mergeml verify-built` prints, and the one line its error boundary shows."""

from __future__ import annotations

from mergeml.project import LOCK_FILE
from mergeml.review.verify.verdict import Verdict


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
