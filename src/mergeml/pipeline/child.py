"""Run DVC as a child that mergeml stops, quietly and completely, when it is interrupted.

The child runs in its own session, so a Ctrl-C at the terminal reaches mergeml alone.
mergeml then sends SIGINT to the child's process group (DVC and the stage it runs), which
lets DVC remove what it created (an experiment's temporary copy under .dvc/tmp/exps/),
and waits for it, up to a grace period; a second Ctrl-C, or the end of the grace period,
kills the group. The child's output is relayed through pipes while it runs normally and
dropped once it is being stopped, so the user reads one line from mergeml, not the
stage's traceback and DVC's "failed to reproduce".
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

log = logging.getLogger(__name__)

GRACE_SECONDS = 60.0
_CHUNK = 65536

# relay: copy the child's output to ours (dropped once it is stopped); capture: keep it;
# inherit: the child writes to our terminal itself (and may read from it).
Output = Literal["relay", "capture", "inherit"]


class Sink(Protocol):
    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...


class _Drop:
    """A sink that forgets what it is given: a stopped child's output."""

    def write(self, text: str, /) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _write(stream: Sink, data: bytes) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()  # what mergeml printed comes first
        buffer.write(data)
        buffer.flush()
    else:  # a text-only stream (e.g. click's test runner)
        stream.write(data.decode("utf-8", "replace"))
        stream.flush()


class _OnceErrors:
    """A relay for stderr that drops an ``ERROR:`` line equal to the line just before it.

    A failed `dvc exp run --temp` logs DVC's "failed to reproduce" twice (its executor,
    then its command line): the user reads it once. Lines are relayed whole.
    """

    def __init__(self, stream: Sink) -> None:
        self._stream = stream
        self._pending = b""
        self._last = b""
        self.buffer = self  # `_write` hands this sink the child's bytes

    def write(self, data: str | bytes, /) -> int:
        self._pending += data.encode() if isinstance(data, str) else data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            if line != self._last or not line.startswith(b"ERROR: "):
                _write(self._stream, line + b"\n")
            self._last = line
        return len(data)

    def flush(self) -> None:
        """Whole lines only: a partial line waits for its end (or for :meth:`end`)."""

    def end(self) -> None:
        if self._pending:
            _write(self._stream, self._pending)
            self._pending = b""


def _pump(
    proc: subprocess.Popen[bytes],
    sinks: Mapping[int, Sink] | Sink,
    deadline: float = float("inf"),
) -> dict[int, bytes]:
    """Copy the child's pipes to ``sinks`` (by fd, or one for all; none: keep) until it exits.

    Stops when the child has exited and its pipes are drained, not at end of file: a
    daemon the child forked (DVC's queue worker) may hold the pipes open for hours.
    Returns what was kept, by fd. TimeoutExpired after ``deadline`` (monotonic).
    """
    kept: dict[int, bytes] = defaultdict(bytes)
    with selectors.DefaultSelector() as sel:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                sel.register(pipe, selectors.EVENT_READ)
        exited = False
        while sel.get_map():
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(proc.args, 0)
            ready = sel.select(timeout=0 if exited else 0.2)
            for key, _ in ready:
                data = os.read(key.fd, _CHUNK)
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                sink = sinks.get(key.fd) if isinstance(sinks, Mapping) else sinks
                if sink is None:
                    kept[key.fd] += data
                else:
                    _write(sink, data)
            if exited and not ready:
                break
            exited = exited or proc.poll() is not None
    return kept


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(proc.pid, signum)


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGINT to the child's group, then wait (dropping its output); kill after ``grace``."""
    log.debug("stopping %s", proc.args)
    _signal_group(proc, signal.SIGINT)
    try:
        _pump(proc, _Drop(), deadline=time.monotonic() + grace)
        proc.wait(timeout=grace)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
    finally:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def run(
    cmd: Sequence[str],
    *,
    output: Output = "relay",
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
    grace: float = GRACE_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in its own session; stop its process group on any exception.

    Whatever interrupts the wait (KeyboardInterrupt, or an exception a signal handler
    raises) stops the child's whole process group first, then propagates.
    """
    piped = subprocess.PIPE if output != "inherit" else None
    proc = subprocess.Popen(
        list(cmd),
        stdin=subprocess.DEVNULL if piped else None,
        stdout=piped,
        stderr=piped,
        env=None if env is None else dict(env),
        pass_fds=tuple(pass_fds),
        start_new_session=True,
    )
    fds = [p.fileno() for p in (proc.stdout, proc.stderr) if p is not None]
    errors = _OnceErrors(sys.stderr)
    sinks = dict(zip(fds, (sys.stdout, errors), strict=True)) if output == "relay" else {}
    try:
        kept = _pump(proc, sinks)
        code = proc.wait()
    except BaseException:
        _stop(proc, grace)
        raise
    errors.end()
    texts = [kept[fd].decode("utf-8", "replace") for fd in fds] or ["", ""]
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    return subprocess.CompletedProcess(list(cmd), code, texts[0], texts[1])
