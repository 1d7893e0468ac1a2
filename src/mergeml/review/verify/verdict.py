"""The verdict of `mergeml verify-built`, and its JSON document (`--out`, read by the report)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from mergeml.config.schema import VerifyTolerance
from mergeml.errors import VerifyError

Status = Literal["identical", "equivalent", "differs", "not compared"]
Outcome = Literal["identical", "equivalent", "differs"]
HEADLINES = {
    "identical": "identical",
    "equivalent": "equivalent within tolerance (rebuilt on different hardware)",
    "differs": "differs from what was committed",
    "unknown": "not verified",
}
NO_VERDICT = "no verdict written: `mergeml verify-built` did not run or did not finish"


@dataclass(frozen=True)
class Finding:
    """What verification found for one path."""

    path: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "status": self.status, "detail": self.detail}


FINDING_KEYS = tuple(f.name for f in fields(Finding))


@dataclass(frozen=True)
class Verdict:
    """Every finding, the tolerance used, and the artifact that promotion uses."""

    findings: tuple[Finding, ...]
    tolerance: VerifyTolerance
    promoted: dict[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
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


def missing_verdict(where: str) -> dict[str, Any]:
    """The Build section when `verify-built` wrote no verdict (it did not run or finish)."""
    return {
        "outcome": "unknown",
        "headline": HEADLINES["unknown"],
        "findings": [Finding(where, "not compared", NO_VERDICT).as_dict()],
        "promoted": {},
    }


def _is_finding(item: object) -> bool:
    return isinstance(item, dict) and all(isinstance(item.get(k), str) for k in FINDING_KEYS)


def _is_verdict(doc: object) -> bool:
    """Whether ``doc`` has the shape of a `verify-built --out` document."""
    if not isinstance(doc, dict) or doc.get("outcome") not in HEADLINES:
        return False
    findings = doc.get("findings")
    if not isinstance(findings, list) or not all(_is_finding(f) for f in findings):
        return False
    return isinstance(doc.get("promoted", {}), dict)


def read_verdict(text: str, where: str) -> dict[str, Any]:
    """A `verify-built --out` document, checked for shape (it ends up in a PR comment)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VerifyError(f"{where} is not JSON: {exc.msg} at line {exc.lineno}") from exc
    if not _is_verdict(doc):
        raise VerifyError(f"{where} is not a `mergeml verify-built --out` verdict")
    promoted: Mapping[str, Any] = doc.get("promoted", {})
    return {
        "outcome": doc["outcome"],
        "headline": HEADLINES[doc["outcome"]],
        "findings": [{k: f[k] for k in FINDING_KEYS} for f in doc["findings"]],
        "promoted": {str(k): str(v) for k, v in promoted.items()},
    }
