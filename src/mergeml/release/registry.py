"""The model registry is git itself: GTO-grammar tags read from refs, in one pass.

`NAME@vX.Y.Z` registers a version at a commit; `NAME#STAGE#N` assigns a stage (the
newest assignment of a stage wins, as in GTO); a `!` marks a deregistration or an
unassignment. The truth of a stage is the head of `release/<stage>`: a disagreement
with the newest stage tag is reported, never silently resolved.

Each version's model md5 and metrics are read from its own commit, where the newest
version's dvc.yaml says they are, and again where its own commit's dvc.yaml says when they
are not there (a project that moved its model or metrics): one `git cat-file --batch` for
the whole registry when nothing moved, each dvc.lock scanned for the one output
(`out_md5`, no full YAML parse), each distinct lock text scanned once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from mergeml.config.lockfile import out_md5
from mergeml.errors import ModelFileError
from mergeml.project import (
    DEFAULT_METRICS,
    DVC_YAML,
    LOCK_FILE,
    Layout,
    layout_from_text,
    release_branch,
    safe_path,
)
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

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


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

    def as_dict(self) -> dict[str, Any]:
        """The fields in order, as JSON-ready values (what `dataclasses.asdict` gives)."""
        data = dict(vars(self))
        data["stages"] = list(self.stages)
        data["metrics"] = None if self.metrics is None else dict(self.metrics)
        return data


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

    def as_dict(self) -> dict[str, Any]:
        ordered = sorted(self.versions.values(), key=lambda v: semver(v.version))
        return {
            "latest": self.latest(),
            "stages": self.stage_holders(),
            "versions": [v.as_dict() for v in ordered],
        }


@dataclass(frozen=True)
class Registry:
    """Every artifact, and every way a release branch disagrees with the tags."""

    artifacts: dict[str, Artifact]
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        """What `mergeml registry --json` prints."""
        return {
            "artifacts": {name: art.as_dict() for name, art in sorted(self.artifacts.items())},
            "warnings": list(self.warnings),
        }


@cache
def semver(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """A sort key in SemVer order: a pre-release sorts before its release; build is ignored."""
    core, _, pre = version[1:].split("+", 1)[0].partition("-")
    major, minor, patch = (int(part) for part in core.split("."))
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")) if pre else ()
    return major, minor, patch, 0 if pre else 1, parts


def holding_version(art: Artifact, commit: str, md5: str | None) -> Version | None:
    """The version that holds a model: the live one registered at ``commit``, else a live one
    whose model md5 is ``md5``; of several, the highest."""
    live = [v for v in art.versions.values() if not v.deregistered]
    same = [v for v in live if v.commit == commit] or [
        v for v in live if md5 and v.model_md5 == md5
    ]
    return max(same, key=lambda v: semver(v.version)) if same else None


def _register(artifacts: dict[str, Artifact], match: re.Match[str], tag: TagInfo) -> None:
    art = artifacts.setdefault(match["name"], Artifact(match["name"]))
    version = match["version"]
    if match["bang"]:
        if version in art.versions:
            art.versions[version].deregistered = True
        return
    art.versions[version] = Version(
        version, tag.commit, tag.timestamp, tag.tagger, tag.message, tag.name
    )


def parse_tags(tags: list[TagInfo]) -> dict[str, Artifact]:
    """Artifacts from GTO-grammar annotated tags; other tags are ignored."""
    artifacts: dict[str, Artifact] = {}
    stage_tags: list[tuple[re.Match[str], TagInfo]] = []
    for tag in tags:
        if match := VERSION_TAG.match(tag.name):
            _register(artifacts, match, tag)
        elif match := STAGE_TAG.match(tag.name):
            stage_tags.append((match, tag))
    at_commit: dict[tuple[str, str], list[str]] = {}
    for art in artifacts.values():
        for v in art.versions.values():
            at_commit.setdefault((art.name, v.commit), []).append(v.version)
    for match, tag in stage_tags:
        art = artifacts.setdefault(match["name"], Artifact(match["name"]))
        held = at_commit.get((art.name, tag.commit))
        art.assignments.append(
            Assignment(
                art.name,
                match["stage"],
                int(match["n"]),
                max(held, key=semver) if held else None,
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


def _numbers(text: str | None) -> dict[str, Any] | None:
    """The top-level numbers of a metrics JSON text; None when it is absent or not an object."""
    try:
        data = json.loads(text) if text else None
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    return {k: v for k, v in data.items() if isinstance(v, int | float)}


def _md5(lock: str | None, path: str) -> str | None:
    try:
        return out_md5(lock, path) if lock else None
    except ModelFileError:  # one broken commit must not hide the registry: unavailable
        return None


def _readable(path: str) -> str | None:
    """A path fit for a `git cat-file --batch` request line, else None."""
    return safe_path(path) if "\n" not in path else None


Blobs = dict[tuple[str, str], str | None]


@dataclass
class _Reading:
    """What `enrich` has read: blobs by (commit, path), and the layout each commit is read by."""

    repo: Git
    lock_out: str | None
    metrics_file: str | None
    blobs: Blobs = field(default_factory=dict)
    layouts: dict[str, Layout] = field(default_factory=dict)
    scanned: dict[tuple[str | None, str], str | None] = field(default_factory=dict)

    def metrics_path(self, commit: str) -> str | None:
        return _readable(self.metrics_file or self.layouts[commit].metrics)

    def read(self, wanted: list[tuple[str, str | None]]) -> None:
        """Read what is not read yet, in one `git cat-file --batch`."""
        new = [(c, p) for c, p in wanted if p is not None and (c, p) not in self.blobs]
        self.blobs |= self.repo.read_many(new)

    def fill(self, name: str, version: Version) -> bool:
        """Set the version's md5 and metrics; whether both were found."""
        layout = self.layouts[version.commit]
        key = (self.blobs.get((version.commit, LOCK_FILE)), self.lock_out or layout.path_of(name))
        if key not in self.scanned:  # each distinct lock text and output read once
            self.scanned[key] = _md5(*key)
        version.model_md5 = self.scanned[key]
        path = self.metrics_path(version.commit)
        version.metrics = _numbers(self.blobs.get((version.commit, path)) if path else None)
        return version.model_md5 is not None and version.metrics is not None


def enrich(
    repo: Git,
    artifacts: dict[str, Artifact],
    lock_out: str | None = None,
    metrics_file: str | None = None,
) -> None:
    """Model md5 and metrics of every version, read from its commit as blobs in-process.

    The model output and the metrics file are where the newest version's dvc.yaml puts
    them; a version where either is missing is read again where its own commit's dvc.yaml
    puts them (a project that moved a file). ``lock_out`` or ``metrics_file`` overrides
    that for all. One `git cat-file --batch` when the metrics file is the usual one.
    """
    versions = [(art.name, v) for art in artifacts.values() for v in art.versions.values()]
    if not versions:
        return
    commits = list(dict.fromkeys(v.commit for _, v in versions))
    newest = max((v for _, v in versions), key=lambda v: (v.timestamp, semver(v.version)))
    reading = _Reading(repo, lock_out, metrics_file)
    usual = _readable(metrics_file or DEFAULT_METRICS)
    reading.read(
        [(newest.commit, DVC_YAML)] + [(c, p) for c in commits for p in (LOCK_FILE, usual)]
    )
    layout = layout_from_text(reading.blobs.get((newest.commit, DVC_YAML)))
    reading.layouts = dict.fromkeys(commits, layout)
    reading.read([(c, reading.metrics_path(c)) for c in commits])
    unsure = list(dict.fromkeys(v.commit for name, v in versions if not reading.fill(name, v)))
    if unsure and not (lock_out and metrics_file):
        _read_moved(reading, versions, unsure, layout)


def _read_moved(
    reading: _Reading, versions: list[tuple[str, Version]], commits: list[str], usual: Layout
) -> None:
    """Read ``commits`` again where their own dvc.yaml puts the model and the metrics."""
    reading.read([(c, DVC_YAML) for c in commits])
    moved = {c: own for c, own in _layouts(reading.blobs, commits).items() if own != usual}
    reading.layouts |= moved
    reading.read([(c, reading.metrics_path(c)) for c in moved])
    for name, version in versions:
        if version.commit in moved:
            reading.fill(name, version)


def _layouts(blobs: Blobs, commits: list[str]) -> dict[str, Layout]:
    """Each commit's layout, from its dvc.yaml in ``blobs``; each distinct text parsed once."""
    parsed: dict[str | None, Layout] = {}
    layouts = {}
    for commit in commits:
        text = blobs.get((commit, DVC_YAML))
        if text not in parsed:
            parsed[text] = layout_from_text(text)
        layouts[commit] = parsed[text]
    return layouts


def release_warnings(repo: Git, artifacts: dict[str, Artifact]) -> list[str]:
    """Stages whose release branch head does not hold the newest stage tag's tree."""
    warnings = []
    for art in artifacts.values():
        for stage, version in art.stage_holders().items():
            branch = repo.first_existing([release_branch(stage), f"origin/{release_branch(stage)}"])
            if branch is None:
                continue
            if repo.tree(branch) != repo.tree(art.versions[version].commit):
                warnings.append(
                    f"release/{stage} head {branch[:7]} does not hold {art.name} {version} "
                    f"(newest {stage} tag); the branch is the truth of the stage"
                )
    return warnings


def read_artifact(repo: Git, name: str) -> Artifact:
    """One artifact with every version's model md5 and metrics (empty when never tagged)."""
    art = parse_tags(repo.annotated_tags()).get(name, Artifact(name))
    enrich(repo, {name: art})
    return art


def read_registry(repo: Git) -> Registry:
    """Every artifact with its versions, stage holders and warnings."""
    artifacts = parse_tags(repo.annotated_tags())
    enrich(repo, artifacts)
    return Registry(artifacts, release_warnings(repo, artifacts))


def stage_history(repo: Git, stage: str) -> list[Assignment]:
    """Every assignment of ``stage`` (all artifacts), oldest first."""
    artifacts = parse_tags(repo.annotated_tags())
    items = [a for art in artifacts.values() for a in art.assignments if a.stage == stage]
    return sorted(items, key=lambda a: (a.timestamp, a.number))
