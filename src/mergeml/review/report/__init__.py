"""The pull-request report: what changed between a base commit and a head (commit or workspace).

`build_report` gathers parameters, metrics, gates, data, curves and confusion matrices into
one typed `Report` (`model`). `render_markdown` turns it into a PR comment body: every string
read from the repository is escaped into inert text and the body stays under GitHub's comment
limit. `render_json` gives the same content as strict JSON.

Nothing here raises on a missing or malformed report file: that side is shown as not
available. Only an unknown git ref raises (`ScmError`, from the git adapter).

Modules: `model` (the typed results), `read` (one side's files), `compare` (params, metrics,
gates), `data`, `curves` (and confusion matrices), `build` (`build_report`), `markdown` and
`markdown_data` (the comment), `json`.
"""

from mergeml.review.report.build import build_report
from mergeml.review.report.json import render_json
from mergeml.review.report.markdown import MARKER, MAX_BODY, render_markdown
from mergeml.review.report.model import Report

__all__ = ["MARKER", "MAX_BODY", "Report", "build_report", "render_json", "render_markdown"]
