"""What a pushed ref means to the registry, as `gto check-ref` tells it.

A registry tag (the GTO grammar `registry` parses) records one event: `NAME@vX.Y.Z`
registers a version, `NAME@vX.Y.Z!` deregisters it, `NAME#STAGE#N` assigns a stage,
`NAME#STAGE!#N` unassigns it. Any other ref (a branch, a plain tag) records none. The
deploy workflow builds an image only for an assignment: that decision is made here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mergeml.errors import PromotionError, ScmError
from mergeml.release.registry import STAGE_TAG, VERSION_TAG, Artifact, parse_tags
from mergeml.scm import Git

TAGS_PREFIX = "refs/tags/"


@dataclass(frozen=True)
class RefEvent:
    """The event a ref records; ``kind`` is None for a ref that is no registry tag."""

    ref: str
    kind: str | None  # registration, deregistration, assignment, unassignment
    name: str | None = None
    version: str | None = None
    stage: str | None = None
    commit: str | None = None
    # For a stage event: whether it is the newest event of its stage (the stage holds it).
    current: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def describe(self) -> str:
        """One line for people."""
        if self.kind is None:
            return f"{self.ref} is not a registry tag: nothing happened to a model"
        at = f"at {(self.commit or '')[:7]}"
        if self.stage is None:
            return f"{self.kind}: {self.name} {self.version} {at}"
        newest = "" if self.current else f" (no longer the newest {self.stage} event)"
        return f"{self.kind}: {self.name} {self.version} {self.stage} {at}{newest}"


def tag_name(ref: str) -> str | None:
    """The tag a ref names (`refs/tags/X` or a bare `X`); None for another full ref."""
    if ref.startswith(TAGS_PREFIX):
        return ref[len(TAGS_PREFIX) :]
    return None if ref.startswith("refs/") else ref


def _stage_event(ref: str, art: Artifact, tag: str) -> RefEvent:
    item = next(a for a in art.assignments if a.tag == tag)
    if item.version is None:
        raise PromotionError(
            f"{tag} assigns {item.stage} to commit {item.commit[:7]}, where no version of "
            f"{art.name} is registered: register it first (`mergeml promote` does both)"
        )
    same = [a for a in art.assignments if a.stage == item.stage]
    newest = max(same, key=lambda a: (a.timestamp, a.number))
    kind = "unassignment" if item.unassign else "assignment"
    return RefEvent(
        ref, kind, art.name, item.version, item.stage, item.commit, current=newest is item
    )


def registry_tag(ref: str) -> tuple[str, re.Match[str]] | None:
    """The tag name and its grammar match when ``ref`` names a registry tag, else None."""
    name = tag_name(ref)
    if name is None:
        return None
    match = VERSION_TAG.match(name) or STAGE_TAG.match(name)
    return (name, match) if match else None


def check_ref(repo: Git, ref: str) -> RefEvent:
    """The event ``ref`` records, read from the repository's annotated tags."""
    parsed = registry_tag(ref)
    if parsed is None:
        return RefEvent(ref, None)
    name, match = parsed
    tags = repo.annotated_tags()
    found = next((t for t in tags if t.name == name), None)
    if found is None:
        raise ScmError(
            f"tag '{name}' not found as an annotated tag in {repo.root}: fetch the tags "
            f"(`git fetch --tags`; a checkout needs fetch-depth: 0)"
        )
    art = parse_tags(tags)[match["name"]]
    if match.re is STAGE_TAG:
        return _stage_event(ref, art, name)
    kind = "deregistration" if match["bang"] else "registration"
    return RefEvent(ref, kind, art.name, match["version"], commit=found.commit)
