"""One exception hierarchy and one error boundary for every mergeml entry point."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import NoReturn


class MergemlError(Exception):
    """Base class: a problem the user can act on. The message is one line."""

    exit_code = 1


class UsageError(MergemlError):
    """The command line itself is wrong."""

    exit_code = 2


class ConfigError(MergemlError):
    """Parameters under params/ or params.yaml are invalid."""


class YamlLimitError(ConfigError):
    """A YAML document beyond the size, alias-expansion or nesting bounds."""


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


class PullError(MergemlError):
    """The model of a stage or revision cannot be resolved, fetched or verified."""


class RequestError(MergemlError):
    """A bad request to `mergeml serve`: answered with ``status`` and a JSON body naming
    ``problems`` (dicts with column, kind, count, first_row)."""

    def __init__(
        self, message: str, *, status: int = 422, problems: tuple[dict[str, object], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.problems = problems


class PredictionLogError(MergemlError):
    """The prediction log's location cannot be used, or feedback cannot be recorded."""


class MonitorError(MergemlError):
    """`mergeml monitor` cannot check: a bad window, profile, log or option (exit 2, since
    exit 1 means drift or degradation)."""

    exit_code = 2


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP stopped mergeml; ``outcome`` says what was left done.

    A KeyboardInterrupt, so that every cleanup written for Ctrl-C runs for the others too.
    """

    def __init__(self, signum: int = signal.SIGINT, outcome: str = "") -> None:
        super().__init__(outcome)
        self.signum = signum
        self.outcome = outcome


class PushInterrupted(Interrupted):
    """A signal came while `git push` ran; git was let finish (bounded) and the remote asked.

    ``held``: the pushed refs the remote holds afterwards (None: it could not be asked);
    ``settled``: git finished by itself, so the remote will not change any more.
    """

    def __init__(
        self, signum: int, *, held: list[str] | None, settled: bool, reason: str = ""
    ) -> None:
        super().__init__(signum, reason)
        self.held = held
        self.settled = settled


# The signals that stop mergeml with its cleanups (SIGHUP does not exist on Windows).
STOP_SIGNALS = tuple(
    getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)
)


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def signum_of(exc: BaseException) -> int:
    """The signal behind a KeyboardInterrupt (plain ones come from SIGINT)."""
    return getattr(exc, "signum", signal.SIGINT)


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP raise Interrupted, as SIGINT raises KeyboardInterrupt; the old
    handlers come back afterwards. A signal the parent ignores (nohup) stays ignored."""
    saved = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS[1:]:  # SIGINT raises KeyboardInterrupt already
            if signal.getsignal(sig) == signal.SIG_DFL:
                saved[sig] = signal.signal(sig, _raise_interrupted)
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def signals_held() -> Iterator[list[int]]:
    """While cleaning up after a signal: further SIGINT, SIGTERM and SIGHUP are only
    recorded in the list yielded, so that the cleanup runs to its end.

    Only handlers that would raise are replaced (in the main thread); the old ones return.
    """
    seen: list[int] = []
    saved = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) in (_raise_interrupted, signal.default_int_handler):
                saved[sig] = signal.signal(sig, lambda signum, _frame: seen.append(signum))
    try:
        yield seen
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


def one_line(message: str) -> str:
    """Collapse a message to a single line for stderr; other control characters (NUL, ESC,
    bidi overrides: anything not printable) are shown escaped, as ``\\x00``."""
    text = " ".join(str(message).split())
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def run_with_boundary(
    main: Callable[[], object], *, traceback: bool | Callable[[], bool] = False
) -> NoReturn:
    """Run ``main``; turn a MergemlError into one stderr line and a non-zero exit.

    This is the only place where mergeml errors become exit codes. ``traceback`` (or what
    it returns when the error happens, e.g. a parsed `--traceback` flag) re-raises instead.
    SIGTERM and SIGHUP stop ``main`` as Ctrl-C does (cleanups run); each is one line, e.g.
    `mergeml: interrupted (SIGTERM): nothing was pushed to origin`, and exit 128 + signal.
    """
    try:
        with _signals_raise():
            main()
    except MergemlError as exc:
        if traceback() if callable(traceback) else traceback:
            raise
        print(f"mergeml: error: {one_line(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        signum = signum_of(exc)
        name = "" if signum == signal.SIGINT else f" ({signal.Signals(signum).name})"
        outcome = one_line(getattr(exc, "outcome", ""))
        print(f"mergeml: interrupted{name}{': ' if outcome else ''}{outcome}", file=sys.stderr)
        sys.exit(128 + signum)
    sys.exit(0)
