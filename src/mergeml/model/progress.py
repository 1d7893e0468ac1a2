"""Progress of a long fit: a line when it starts, one a minute while it runs, one at the end.

Lines are logged (logger ``mergeml.model.progress``, level INFO); the `train` stage shows
them on stderr with :func:`show_progress`, and DVC passes a stage's stderr through. A
fit of minutes then says what it is doing instead of printing nothing.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Iterator

log = logging.getLogger(__name__)

HEARTBEAT_S = 60.0


def show_progress(prefix: str = "train") -> None:
    """Print this module's progress lines on stderr as ``<prefix>: <line>`` (once)."""
    if not any(getattr(h, "_mergeml_progress", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"{prefix}: %(message)s"))
        handler._mergeml_progress = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    log.setLevel(logging.INFO)


def elapsed(seconds: float) -> str:
    """``'4.2 s'``, ``'3 min 05 s'``: a duration for people."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


@contextlib.contextmanager
def fit_progress(what: str, heartbeat: float = HEARTBEAT_S) -> Iterator[None]:
    """Log the start of fitting ``what``, a line every ``heartbeat`` seconds, and the end."""
    start = time.monotonic()
    log.info("fitting %s", what)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(heartbeat):
            log.info("still fitting (%s so far)", elapsed(time.monotonic() - start))

    thread = threading.Thread(target=beat, name="fit-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    log.info("fitted in %s", elapsed(time.monotonic() - start))
