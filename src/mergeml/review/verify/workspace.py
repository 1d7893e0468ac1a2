"""Where verification reads: git (the committed text files) and DVC (the committed outputs)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

# A reader of the committed content of a DVC-cached output: bytes, or None when the object
# is in neither the cache nor the remote.
CommittedReader = Callable[[str], bytes | None]
CommittedLister = Callable[[str], list[str] | None]


class Repo(Protocol):
    """What verification needs from git (mergeml.scm.Git provides it)."""

    def changed(self, paths: list[str]) -> list[str]: ...

    def read_text(self, ref: str, path: str) -> str | None: ...

    def resolve(self, ref: str) -> str: ...


@dataclass(frozen=True)
class Workspace:
    """Where the rebuilt outputs are, and how to read the committed ones."""

    root: Path
    read_committed: CommittedReader
    list_committed: CommittedLister


def dvc_workspace(root: Path, rev: str) -> Workspace:
    """Read committed outputs at ``rev`` through DVC: the local cache, else the remote."""
    from dvc.exceptions import DvcException
    from dvc.fs import DVCFileSystem

    fs = DVCFileSystem(repo=str(root), rev=rev)
    missing = (DvcException, OSError, KeyError, ValueError)

    def read(path: str) -> bytes | None:
        try:
            with fs.open(path, "rb") as handle:
                data: bytes = handle.read()
                return data
        except missing as exc:
            log.debug("committed %s unavailable: %s", path, exc)
            return None

    def listing(out: str) -> list[str] | None:
        try:
            if fs.isdir(out):
                return sorted(str(p).lstrip("/") for p in fs.find(out))
            return [out] if fs.exists(out) else None
        except missing as exc:
            log.debug("committed %s unavailable: %s", out, exc)
            return None

    return Workspace(root, read, listing)
