"""The report as typed, frozen results: one class per section, turned into JSON by `to_dict`.

`to_dict` gives the plain document `mergeml report --format json` prints (the field order is
the key order); the Markdown renderer reads the typed fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from mergeml.review.gates import GateResult

ChangeStatus = Literal["added", "removed", "changed"]
MetricStatus = Literal[
    "better", "worse", "unchanged", "added", "removed", "not comparable", "no base", "no head"
]


def plain(value: Any) -> Any:
    """``value`` with every result, tuple and mapping inside it turned into dicts and lists."""
    if isinstance(value, Plain):
        return value.to_dict()
    if isinstance(value, GateResult):
        return value.as_dict()
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Plain:
    """A result whose JSON form has one key per field, in field order."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Revision(Plain):
    """One side as the report names it: a ref at a commit, or the workspace (``sha`` None)."""

    ref: str
    sha: str | None
    short: str


# --- parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamChange(Plain):
    """One added, removed or changed dotted key; ``old``/``new`` only where the side has it."""

    file: str
    key: str
    status: ChangeStatus
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"file": self.file, "key": self.key, "status": self.status}
        if self.status != "added":
            entry["old"] = self.old
        if self.status != "removed":
            entry["new"] = self.new
        return entry


@dataclass(frozen=True)
class ModelClass(Plain):
    old: Any
    new: Any


@dataclass(frozen=True)
class ParamsSection(Plain):
    """The changed parameters of every params file that dvc.yaml names."""

    files: tuple[str, ...]
    model_class: ModelClass | None  # a changed ``model._target_``, pulled out of ``changes``
    changes: tuple[ParamChange, ...]


# --- metrics and gates --------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricRow(Plain):
    """One metric: values, absolute and relative change, direction-aware status."""

    name: str
    base: float | None
    head: float | None
    direction: str
    abs: float | None
    rel: float | None
    status: MetricStatus


@dataclass(frozen=True)
class MetricsSection(Plain):
    """The metrics file of both sides, row by row; a note for a side without it."""

    file: str
    base_available: bool
    head_available: bool
    notes: tuple[str, ...]
    rows: tuple[MetricRow, ...]


@dataclass(frozen=True)
class GatesSection(Plain):
    """Head's gate rules checked on head's metrics (and base's, for ``vs_base``)."""

    error: str | None  # why head's gate rules are invalid
    results: tuple[GateResult, ...]


@dataclass(frozen=True)
class GateVerdict(Plain):
    """Pass only when head has metrics, the rules parse and no gate fails."""

    passed: bool
    passed_gates: int
    failed_gates: int
    skipped_gates: int
    reasons: tuple[str, ...]


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile(Plain):
    path: str
    md5: str
    size: int | None


@dataclass(frozen=True)
class DataSummary(Plain):
    """Train/test rows and class balance from reports/data.json (None: not recorded)."""

    rows: Mapping[str, Any] | None
    class_balance: Mapping[str, Any] | None
    source_file: SourceFile | None

    @property
    def empty(self) -> bool:
        return self.rows is None and self.class_balance is None and self.source_file is None

    def rows_of(self, split: str) -> Any:
        return None if self.rows is None else self.rows.get(split)

    def classes_of(self, split: str) -> Any:
        return None if self.class_balance is None else self.class_balance.get(split)

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in super().to_dict().items() if value is not None}


@dataclass(frozen=True)
class SourceChange(Plain):
    base: SourceFile | None
    head: SourceFile | None
    changed: bool | None  # None: the file is on one side only


@dataclass(frozen=True)
class DataSection(Plain):
    changed: bool | None  # the `prepare` outputs in dvc.lock; None: not comparable
    base_outs: Mapping[str, str] | None
    head_outs: Mapping[str, str] | None
    base: DataSummary | None
    head: DataSummary | None
    source: SourceChange | None


# --- curves and confusion matrices --------------------------------------------------------------


@dataclass(frozen=True)
class Series(Plain):
    name: str
    y: tuple[float, ...]


@dataclass(frozen=True)
class Curve(Plain):
    """Lines on one x grid (ROC and precision-recall: base vs head)."""

    title: str
    x_label: str
    y_label: str
    x: tuple[float, ...]
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Matrix(Plain):
    """Counts by (actual, predicted); no labels when there are too many classes to show."""

    labels: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]
    classes: int


@dataclass(frozen=True)
class Confusion(Plain):
    base: Matrix | None
    head: Matrix | None


# --- the build verdict and the report -----------------------------------------------------------


@dataclass(frozen=True)
class BuildFinding(Plain):
    path: str
    status: str
    detail: str


@dataclass(frozen=True)
class Build(Plain):
    """A `mergeml verify-built --out` verdict, as `review.verify.read_verdict` returns it."""

    outcome: str
    headline: str
    findings: tuple[BuildFinding, ...]
    promoted: Mapping[str, str]

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Build:
        """From `read_verdict` or `missing_verdict` output (KeyError on another shape)."""
        findings = tuple(BuildFinding(f["path"], f["status"], f["detail"]) for f in doc["findings"])
        return cls(doc["outcome"], doc["headline"], findings, dict(doc.get("promoted") or {}))


@dataclass(frozen=True)
class Report(Plain):
    """What changed between a base commit and a head (commit or workspace)."""

    model: str
    base: Revision
    head: Revision
    verdict: GateVerdict
    build: Build | None
    params: ParamsSection
    metrics: MetricsSection
    gates: GatesSection
    data: DataSection
    curves: tuple[Curve, ...]
    confusion: Confusion
    notes: tuple[str, ...]

    def __getitem__(self, key: str) -> Any:
        """One section of the JSON document: ``report["verdict"]``."""
        return self.to_dict()[key]
