"""What a release command asks for and what it will write: the typed requests and plans.

Three requests, no string modes: `Promote` (gated: REV's tree into `release/<stage>`),
`Rollback` (forward-only: a new stage tag on an earlier holder) and `Record` (tags for a
merge that reached a release branch another way). `release.promotion` turns one into a
`Plan`; `release.push` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from mergeml.release.policy import Policy
from mergeml.scm import Git

Bump = Literal["major", "minor", "patch"]


@dataclass(frozen=True)
class Promote:
    """Promote REV to STAGE: gated, and only from what the remote's main holds."""

    stage: str
    rev: str = "HEAD"
    bump: Bump = "minor"
    message: str = ""
    label: ClassVar[str] = "promote"

    def why(self, version: str) -> str:
        return self.message or f"promote to {self.stage}"


@dataclass(frozen=True)
class Rollback:
    """Put back VERSION (default: the holder before the current one) in STAGE."""

    stage: str
    to: str | None = None
    message: str = ""
    label: ClassVar[str] = "rollback"

    def why(self, version: str) -> str:
        return self.message or f"roll back {self.stage} to {version}"


@dataclass(frozen=True)
class Record:
    """Tag what release/STAGE on the remote already holds."""

    stage: str
    label: ClassVar[str] = "record"

    def why(self, version: str) -> str:
        return f"merged into release/{self.stage}"


Request = Promote | Rollback | Record


@dataclass(frozen=True)
class Context:
    """Where a request acts: the repository (fetched), the model's name, the remote, the
    policy read from the remote's main."""

    repo: Git
    artifact: str
    remote: str
    policy: Policy


@dataclass(frozen=True)
class BranchUpdate:
    """How `release/<stage>` moves: to ``target`` (fast-forward, or not at all when it is
    ``old``), or to a merge of ``target`` into ``old`` holding target's tree exactly."""

    name: str
    old: str | None  # the remote head now: the push's compare-and-swap value
    target: str
    merge_message: str | None = None  # a merge commit is needed (made when executing)

    def describe(self) -> str:
        if self.merge_message is not None and self.old is not None:
            return f"{self.name} -> a merge of {self.target[:12]} into {self.old[:12]}"
        if self.target == self.old:
            return f"{self.name} stays at {self.target[:12]}"
        return f"{self.name} -> {self.target[:12]}"


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What a request writes: the tags (the version's if new, then the stage's) on
    ``version_commit`` and the branch update; nothing when ``already``."""

    artifact: str
    stage: str
    rev: str  # the commit whose tree the stage will hold
    version: str
    version_commit: str
    new_version: bool
    stage_tag: str
    branch: BranchUpdate
    metrics: str = "metrics unavailable"  # a one-line summary for the tag messages
    already: bool = False
    not_before: int = 0  # the new tags' time must be later than every assignment's
    notes: tuple[str, ...] = ()  # warnings worth showing the user

    def tags(self) -> list[tuple[str, str]]:
        """(name, headline) of each tag to write: the version if new, then the stage."""
        model = f"{self.artifact} {self.version}"
        register = (f"{self.artifact}@{self.version}", f"Registering {model}")
        assign = (self.stage_tag, f"Assigning stage {self.stage} to {model}")
        return ([register] if self.new_version else []) + [assign]
