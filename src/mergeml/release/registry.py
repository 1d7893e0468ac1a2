"""The model registry is git itself: GTO-grammar tags read from refs, in one pass.

`NAME@vX.Y.Z` registers a version at a commit; `NAME#STAGE#N` assigns a stage (the
newest assignment of a stage wins, as in GTO); a `!` marks a deregistration or an
unassignment. The truth of a stage is the head of `release/<stage>`: a disagreement
with the newest stage tag is reported, never silently resolved.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from mergeml.scm import Git, TagInfo

NAME = r"[a-z0-9](?:[a-z0-9_/-]*[a-z0-9])?"
STAGE = r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?"  # GTO shows any case
SEMVER = r"v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"  # pre-release, build
VERSION_TAG = re.compile(rf"^(?P<name>{NAME})@(?P<version>{SEMVER})(?P<bang>!)?(?:#\d+)?$")
STAGE_TAG = re.compile(rf"^(?P<name>{NAME})#(?P<stage>{STAGE})(?P<bang>!)?#(?P<n>\d+)$")


@dataclass(frozen=True)
class Assignment:
    artifact: str
    stage: str
    number: int
    version: str | None  # None when the commit holds no registered version
    commit: str
    timestamp: int
    actor: str
    message: str
    tag: str
    unassign: bool = False


@dataclass
class Version:
    version: str
    commit: str
    timestamp: int
    actor: str
    message: str
    tag: str
    deregistered: bool = False
    stages: list[str] = field(default_factory=list)
    model_md5: str | None = None
    metrics: dict[str, Any] | None = None


@dataclass
class Artifact:
    name: str
    versions: dict[str, Version] = field(default_factory=dict)
    assignments: list[Assignment] = field(default_factory=list)

    def latest(self) -> str | None:
        """The highest registered (not deregistered) version."""
        live = [v for v in self.versions.values() if not v.deregistered]
        return max(live, key=lambda v: semver(v.version)).version if live else None

    def stage_holders(self) -> dict[str, str]:
        """stage -> version of its newest assignment (none after an unassignment)."""
        newest: dict[str, Assignment] = {}
        for item in sorted(self.assignments, key=lambda a: (a.timestamp, a.number)):
            held = self.versions.get(item.version or "")
            if held is not None and held.deregistered:
                continue  # as in GTO: a deregistered version holds no stage
            newest[item.stage] = item
        return {
            stage: item.version
            for stage, item in sorted(newest.items())
            if not item.unassign and item.version
        }


def semver(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """A sort key in SemVer order: a pre-release sorts before its release; build is ignored."""
    core, _, pre = version[1:].split("+", 1)[0].partition("-")
    major, minor, patch = (int(part) for part in core.split("."))
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")) if pre else ()
    return major, minor, patch, 0 if pre else 1, parts


def parse_tags(tags: list[TagInfo]) -> dict[str, Artifact]:
    """Artifacts from GTO-grammar annotated tags; other tags are ignored."""
    artifacts: dict[str, Artifact] = {}
    stage_tags: list[tuple[re.Match[str], TagInfo]] = []
    for tag in tags:
        if match := VERSION_TAG.match(tag.name):
            art = artifacts.setdefault(match["name"], Artifact(match["name"]))
            version = match["version"]
            if match["bang"]:
                if version in art.versions:
                    art.versions[version].deregistered = True
                continue
            art.versions[version] = Version(
                version, tag.commit, tag.timestamp, tag.tagger, tag.message, tag.name
            )
        elif match := STAGE_TAG.match(tag.name):
            stage_tags.append((match, tag))
    for match, tag in stage_tags:
        art = artifacts.setdefault(match["name"], Artifact(match["name"]))
        at_commit = [v.version for v in art.versions.values() if v.commit == tag.commit]
        version = max(at_commit, key=semver) if at_commit else None
        art.assignments.append(
            Assignment(
                art.name,
                match["stage"],
                int(match["n"]),
                version,
                tag.commit,
                tag.timestamp,
                tag.tagger,
                tag.message,
                tag.name,
                unassign=bool(match["bang"]),
            )
        )
    for art in artifacts.values():
        for stage, version in art.stage_holders().items():
            art.versions[version].stages.append(stage)
    return artifacts


def enrich(repo: Git, artifacts: dict[str, Artifact], lock_out: str, metrics_file: str) -> None:
    """Model md5 (from dvc.lock) and metrics of every version, read as blobs in-process."""
    from mergeml.config.lockfile import md5_in_lock_text
    from mergeml.errors import ModelFileError

    versions = [v for art in artifacts.values() for v in art.versions.values()]
    wanted = [(v.commit, path) for v in versions for path in ("dvc.lock", metrics_file)]
    blobs = repo.read_many(wanted)
    for version in versions:
        lock = blobs.get((version.commit, "dvc.lock"))
        try:
            version.model_md5 = md5_in_lock_text(lock, lock_out) if lock else None
        except ModelFileError:  # one broken commit must not hide the registry: unavailable
            version.model_md5 = None
        text = blobs.get((version.commit, metrics_file))
        try:
            data = json.loads(text) if text else None
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            version.metrics = {k: v for k, v in data.items() if isinstance(v, int | float)}


def release_warnings(repo: Git, artifacts: dict[str, Artifact]) -> list[str]:
    """Stages whose release branch head does not hold the newest stage tag's tree."""
    warnings = []
    for art in artifacts.values():
        for stage, version in art.stage_holders().items():
            branch = repo.first_existing([f"release/{stage}", f"origin/release/{stage}"])
            if branch is None:
                continue
            if repo.tree(branch) != repo.tree(art.versions[version].commit):
                warnings.append(
                    f"release/{stage} head {branch[:7]} does not hold {art.name} {version} "
                    f"(newest {stage} tag); the branch is the truth of the stage"
                )
    return warnings


def read_registry(
    repo: Git, *, lock_out: str = "models/model.skops", metrics_file: str = "reports/metrics.json"
) -> dict[str, Any]:
    """Every artifact with its versions, stage holders and warnings."""
    artifacts = parse_tags(repo.annotated_tags())
    enrich(repo, artifacts, lock_out, metrics_file)
    return {
        "artifacts": {
            name: {
                "latest": art.latest(),
                "stages": art.stage_holders(),
                "versions": [
                    asdict(v)
                    for v in sorted(art.versions.values(), key=lambda v: semver(v.version))
                ],
            }
            for name, art in sorted(artifacts.items())
        },
        "warnings": release_warnings(repo, artifacts),
    }


def stage_history(repo: Git, stage: str) -> list[dict[str, Any]]:
    """Every assignment of ``stage`` (all artifacts), oldest first."""
    artifacts = parse_tags(repo.annotated_tags())
    items = [a for art in artifacts.values() for a in art.assignments if a.stage == stage]
    return [asdict(a) for a in sorted(items, key=lambda a: (a.timestamp, a.number))]
