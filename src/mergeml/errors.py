"""One exception hierarchy and one error boundary for every mergeml entry point."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn


class MergemlError(Exception):
    """Base class: a problem the user can act on. The message is one line."""

    exit_code = 1


class UsageError(MergemlError):
    """The command line itself is wrong."""

    exit_code = 2


class ConfigError(MergemlError):
    """Parameters under params/ or params.yaml are invalid."""


class StaleParamsError(ConfigError):
    """params.yaml differs from what params/ composes to."""


class DataError(MergemlError):
    """Input data is missing, unreadable or fails validation."""


class ModelFileError(MergemlError):
    """A model file is unsafe, corrupted, or does not match its record."""


class PipelineError(MergemlError):
    """A DVC or experiment operation failed."""


class GitHubError(MergemlError):
    """A GitHub API request was refused, failed, or its inputs are unsafe."""


class EvaluationError(MergemlError):
    """Predictions or labels cannot be scored (shapes, classes, non-finite values)."""


class MetricsFileError(MergemlError):
    """A metrics file is missing, truncated or not a JSON object."""


class ScmError(MergemlError):
    """A git repository, ref or object is missing or unreadable."""


class PushRejected(ScmError):
    """The remote refused an atomic push; none of its refs were updated."""


class PromotionError(MergemlError):
    """A promotion was refused; nothing was written."""


class CardError(MergemlError):
    """The model card template cannot be filled (unknown placeholder, stray `$`)."""


class VerifyError(MergemlError):
    """A rebuild is not what was committed, or its verdict cannot be read."""


def one_line(message: str) -> str:
    """Collapse a message to a single line for stderr."""
    return " ".join(str(message).split())


def run_with_boundary(
    main: Callable[[], object], *, traceback: bool | Callable[[], bool] = False
) -> NoReturn:
    """Run ``main``; turn a MergemlError into one stderr line and a non-zero exit.

    This is the only place where mergeml errors become exit codes. ``traceback`` (or what
    it returns when the error happens, e.g. a parsed `--traceback` flag) re-raises instead.
    """
    try:
        main()
    except MergemlError as exc:
        if traceback() if callable(traceback) else traceback:
            raise
        print(f"mergeml: error: {one_line(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("mergeml: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(0)
