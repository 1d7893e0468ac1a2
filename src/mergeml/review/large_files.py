"""Large files belong in DVC, not in git (SECURITY E7): the check `make lint` and CI run.

Git keeps every version of every file in every clone for ever; data and models go to DVC,
which keeps a small pointer file in git. The limit is GitHub's warning size, 50 MB
(MiB, as GitHub counts).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from mergeml.errors import MergemlError
from mergeml.scm import Git

MB = 1024 * 1024
DEFAULT_MAX_MB = 50.0


def too_large(sizes: Mapping[str, int], max_bytes: int) -> list[tuple[str, int]]:
    """The ``(path, size)`` pairs over ``max_bytes``, largest first."""
    return sorted(
        ((path, size) for path, size in sizes.items() if size > max_bytes),
        key=lambda item: (-item[1], item[0]),
    )


def _megabytes(size: int) -> str:
    """``size`` for people: ``"51.2 MB"``, or bytes below a megabyte."""
    return f"{size / MB:.1f} MB" if size >= MB else f"{size} bytes"


def describe(found: list[tuple[str, int]], max_bytes: int) -> str:
    """One line: the largest file, how many more, and the `dvc add` that fixes it."""
    path, size = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    quoted = shlex.quote(path)
    return (
        f"{path} is {_megabytes(size)} in git{more}, over the {_megabytes(max_bytes)} limit: "
        f"track it with DVC instead: git rm --cached {quoted} && dvc add {quoted}"
    )


def check_git_file_sizes(repo: Git, max_mb: float = DEFAULT_MAX_MB) -> int:
    """Raise MergemlError when a file in git's index is over ``max_mb``; else the count.

    Every file `git ls-files` lists counts, staged or committed; DVC-tracked files are
    not in git (only their small ``.dvc`` pointer or ``dvc.lock`` entry is).
    """
    if not max_mb > 0:
        raise MergemlError(f"the size limit must be positive, not {max_mb} MB")
    max_bytes = int(max_mb * MB)
    sizes = repo.staged_sizes()
    found = too_large(sizes, max_bytes)
    if found:
        raise MergemlError(describe(found, max_bytes))
    return len(sizes)
