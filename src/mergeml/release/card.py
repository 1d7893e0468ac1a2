"""The model card: one Markdown page describing the model at a commit, read from git only.

Facts (model, version, data, parameters, metrics, gates, promotion history) are rendered
here from the commit's files and the registry tags; the prose (intended use, limitations)
lives in a template the user edits, ``docs/model_card.md``, whose ``string.Template``
placeholders receive the rendered sections. The working tree is never read, so the card of
a commit is the same wherever and whenever it is rendered.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mergeml.config.compose import flatten
from mergeml.config.lockfile import md5_in_lock_text
from mergeml.errors import CardError, MergemlError, ModelFileError
from mergeml.markdown import esc, fmt, table
from mergeml.model.schema import parse_schema
from mergeml.project import (
    DEFAULT_METRICS,
    DVC_YAML,
    LOCK_FILE,
    MAX_INPUT,
    PARAMS_FILE,
    Side,
    git_side,
    layout_from_text,
)
from mergeml.release.registry import Artifact, holding_version, read_artifact
from mergeml.review.gates import check_gates
from mergeml.review.report.data import DATA_FILE, SPLITS, data_summary, prepare_outs
from mergeml.review.report.markdown_data import balance
from mergeml.review.report.model import DataSummary
from mergeml.review.report.read import flat_params, gate_rules, numeric_metrics, read_metrics
from mergeml.scm import Git

__all__ = ["DEFAULT_TEMPLATE", "PLACEHOLDERS", "CardError", "render_card"]

log = logging.getLogger(__name__)

TEMPLATE_FILE = "docs/model_card.md"
FACTS = ("model", "version", "commit", "model_path", "model_md5")  # one-line values
SECTIONS = ("data", "schema", "params", "metrics", "gates", "history")  # Markdown blocks
PLACEHOLDERS = FACTS + SECTIONS
PARAM_SECTIONS = ("model", "preprocess", "split")
PARAM_CELL = 1000  # characters: a card is a document, not a size-limited comment.
NO_BASE = "relative gate, checked against the stage's current model at promotion"
DEFAULT_TEMPLATE = """\
# Model card: $model

- **Version:** $version
- **Commit:** $commit
- **Model md5 ($model_path):** $model_md5

## Intended use

Not documented: commit a `docs/model_card.md` template (start from mergeml's own) saying
who should use this model, for what, and for what not.

## Limitations

Not documented: list known weaknesses and data gaps in `docs/model_card.md`.

## Data

$data

## Input schema

$schema

## Parameters

$params

## Metrics

$metrics

## Gates

$gates

## Promotion history

$history
"""


# --- sections -----------------------------------------------------------------------------------


def _in_section(key: str, section: str) -> bool:
    return key == section or key.startswith(section + ".")


def _rows_or(header: list[str], rows: list[list[str]], empty: str) -> str:
    return "\n".join(table(header, rows)) if rows else empty


def data_md(side: Side, params: Mapping[str, Any]) -> str:
    """The data source (params.yaml `data`), source-file and prepared-data md5s, splits."""
    rows = [[esc(k), esc(v)] for k, v in params.items() if _in_section(k, "data")]
    outs = prepare_outs(side)
    rows += [[f"md5 of {esc(path)}", esc(md5)] for path, md5 in (outs or {}).items()]
    summary = data_summary(side)
    source = summary.source_file if summary is not None else None
    if source:
        rows.append([f"md5 of source file {esc(source.path)}", esc(source.md5)])
    rows += _split_rows(summary) if summary is not None else []
    notes = [] if outs else ["_No `prepare` outputs recorded in dvc.lock._"]
    notes += [] if summary is not None else [f"_{DATA_FILE} unavailable._"]
    body = _rows_or(["data", "value"], rows, "_No data description in params.yaml._")
    return "\n\n".join([body, *notes])


def _split_rows(summary: DataSummary) -> list[list[str]]:
    """Rows and class balance of each split that reports/data.json records."""
    rows = []
    for split in SPLITS:
        count = summary.rows_of(split)
        if count is not None:
            rows.append([f"{split} rows", esc(count)])
        counts = summary.classes_of(split)
        if counts is not None:
            rows.append([f"{split} classes", balance(counts)])
    return rows


def schema_md(text: str | None, path: str) -> str:
    """The model's input schema (written by the train stage) as one row per feature column."""
    schema = parse_schema(text)
    if schema is None:
        return f"_Input schema unavailable: {esc(path)} is absent or unreadable at this commit._"
    rows = [
        [
            esc(c["name"]),
            esc(c["dtype"]),
            "yes" if c["nullable"] else "no",
            esc(", ".join(c["categories"])) if c.get("categories") else "",
        ]
        for c in schema["columns"]
    ]
    header = ["column", "dtype", "missing values in training", "categories seen in training"]
    return _rows_or(header, rows, "_No feature columns._")


def _expand(key: str, value: Any) -> list[tuple[str, Any]]:
    """A list of mappings (pipeline steps) as one row per step key: ``key.0._target_``."""
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return [(f"{key}.{i}.{k}", v) for i, step in enumerate(value) for k, v in flatten(step)]
    return [(key, value)]


def params_md(params: Mapping[str, Any]) -> str:
    """The model, preprocess and split parameters as `key | value` rows."""
    rows = [
        [esc(name), esc(leaf, PARAM_CELL)]
        for section in PARAM_SECTIONS
        for key, value in params.items()
        if _in_section(key, section)
        for name, leaf in _expand(key, value)
    ]
    return _rows_or(["parameter", "value"], rows, "_No model, preprocess or split parameters._")


def metrics_md(metrics: Mapping[str, Any] | None, path: str) -> str:
    """Every top-level numeric metric, in the file's order."""
    if metrics is None:
        return f"_Metrics unavailable: {esc(path)} is absent or unreadable at this commit._"
    rows = [[esc(name), fmt(value)] for name, value in numeric_metrics(metrics).items()]
    return _rows_or(["metric", "value"], rows, f"_No numeric metrics in {esc(path)}._")


def gates_md(side: Side, metrics: dict[str, Any] | None) -> str:
    """Absolute gates checked on this commit's metrics; relative gates shown as skipped."""
    try:
        rules = gate_rules(side)
    except MergemlError as exc:
        return f"Gate rules are invalid: {esc(str(exc))}"
    if not (rules.min or rules.max or rules.vs_base):
        return "_No gates configured (`evaluate.gates` in params.yaml)._"
    if metrics is None:
        return "_Gates not checked: metrics unavailable._"
    rows = [
        [
            r.rule,
            esc(r.metric),
            esc(r.threshold),
            fmt(r.head),
            r.status + (f" ({esc(r.reason)})" if r.reason else ""),
        ]
        for r in check_gates(rules, metrics, None, no_base=NO_BASE)
    ]
    return "\n".join(table(["gate", "metric", "threshold", "value", "result"], rows))


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def history_md(art: Artifact, commit: str) -> str:
    """Every stage assignment (and unassignment) of ``commit``, oldest first."""
    items = sorted(
        (a for a in art.assignments if a.commit == commit),
        key=lambda a: (a.timestamp, a.number, a.tag),
    )
    rows = [
        [
            _utc(a.timestamp),
            esc(a.stage) + (" (unassigned)" if a.unassign else ""),
            esc(a.tag),
            esc(a.actor),
            esc(a.message.splitlines()[0] if a.message else ""),
        ]
        for a in items
    ]
    return _rows_or(["time (UTC)", "stage", "tag", "actor", "message"], rows, "_Not promoted yet._")


# --- the template -------------------------------------------------------------------------------


def fill(template: str, values: Mapping[str, str], where: str) -> str:
    """Substitute ``values``; CardError naming ``where:line`` for an unknown or stray `$`."""
    known = ", ".join(f"${name}" for name in values)
    for match in string.Template.pattern.finditer(template):
        line = template.count("\n", 0, match.start()) + 1
        name = match["named"] or match["braced"]
        if match["invalid"] is not None:
            shown = template[match.start() :].split(maxsplit=1)[0][:20]
            raise CardError(
                f"{where}:{line}: '{shown}' is not a placeholder; write $$ for a literal $ "
                f"(placeholders: {known})"
            )
        if name is not None and name not in values:
            raise CardError(f"{where}:{line}: unknown placeholder ${name} (placeholders: {known})")
    return string.Template(template).substitute(values)


def _read(repo: Git, rev: str, template: str) -> tuple[Side, str | None]:
    """The commit as a report Side; the fixed files come from one `git cat-file --batch`."""
    if "\n" in template or not template.strip():
        raise CardError(f"invalid template path {template!r}")
    sha = repo.resolve(rev)
    paths = (
        DVC_YAML,
        LOCK_FILE,
        PARAMS_FILE,
        DEFAULT_METRICS,
        DATA_FILE,
        template,
    )
    blobs = repo.read_many([(sha, path) for path in paths])
    other = git_side(repo, sha)  # a metrics file declared elsewhere in dvc.yaml

    def read(path: str) -> str | None:
        if path not in paths:
            return other.read(path)
        text = blobs.get((sha, path))
        return text if text is not None and len(text) <= MAX_INPUT else None

    return Side(rev, sha, read), read(template)


def render_card(repo: Git, rev: str, *, template: str = TEMPLATE_FILE) -> str:
    """The Markdown model card of commit ``rev``, filled into ``template`` read at ``rev``.

    Raises ScmError for an unknown ref and CardError for a template that cannot be filled.
    """
    side, text = _read(repo, rev, template)
    sha = side.sha or ""
    layout = layout_from_text(side.read(DVC_YAML))
    lock = side.read(LOCK_FILE)
    try:
        md5 = md5_in_lock_text(lock, layout.model_path) if lock else None
    except ModelFileError:  # an unparsable dvc.lock: shown as not recorded
        md5 = None
    art = read_artifact(repo, layout.model)
    version = holding_version(art, sha, md5)
    params = flat_params(side.read(PARAMS_FILE), f"{PARAMS_FILE} at {side.short}")
    metrics = read_metrics(side, layout.metrics)
    values = {
        "model": esc(layout.model),
        "version": esc(version.version) if version else "unregistered",
        "commit": sha,
        "model_path": esc(layout.model_path),
        "model_md5": esc(md5) if md5 else f"not recorded in {LOCK_FILE}",
        "data": data_md(side, params),
        "schema": schema_md(side.read(layout.schema_path), layout.schema_path),
        "params": params_md(params),
        "metrics": metrics_md(metrics, layout.metrics),
        "gates": gates_md(side, metrics),
        "history": history_md(art, version.commit if version else sha),
    }
    if text is None:
        log.info("%s not found at %s: using the built-in model card template", template, sha[:7])
        filled = fill(DEFAULT_TEMPLATE, values, "built-in model card template")
    else:
        filled = fill(text, values, template)
    return filled.rstrip("\n") + "\n"
