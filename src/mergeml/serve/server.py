"""Run `mergeml serve`: bind the socket, load the model once to say what is served, and
hand over to uvicorn (the app factory by import string, so ``--workers`` can spawn
processes).

SIGTERM (or Ctrl-C) stops accepting connections, lets in-flight requests finish (at most
``GRACEFUL_SECONDS``), runs each worker's shutdown (the prediction log is flushed) and
exits 0. Every worker scores on one thread with one OpenMP/BLAS thread.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mergeml.errors import MergemlError, UsageError
from mergeml.serve.app import SETTINGS_ENV, Settings, preload
from mergeml.serve.batcher import DEFAULT_MAX_BATCH_ROWS
from mergeml.serve.metrics import MULTIPROC_ENV
from mergeml.serve.service import Service, load_service, one_thread_env

APP = "mergeml.serve.app:create_app"
GRACEFUL_SECONDS = 30
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class ServeOptions:
    """`mergeml serve`'s options, the model directory resolved."""

    model_dir: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 1
    log_url: str | None = None
    max_rows: int = 10_000
    max_body_mb: float = 8.0
    max_batch_rows: int = DEFAULT_MAX_BATCH_ROWS

    def check(self) -> None:
        if self.workers < 1:
            raise UsageError(f"--workers must be at least 1, not {self.workers}")
        if self.max_rows < 1:
            raise UsageError(f"--max-rows must be at least 1, not {self.max_rows}")
        if self.max_batch_rows < 1:
            raise UsageError(f"--max-batch-rows must be at least 1, not {self.max_batch_rows}")
        if not self.max_body_mb > 0:
            raise UsageError(f"--max-body-mb must be more than 0, not {self.max_body_mb}")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port must be 0-65535, not {self.port}")


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (UsageError naming the address when it cannot be)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        raise UsageError(f"--host {host!r} is not an address of this machine ({exc})") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


def url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def start_line(service: Service, where: str, workers: int) -> str:
    """``serving tabular-model v0.3.0 (stage staging, md5 73ca7998) at http://... (1 worker)``."""
    plural = "s" if workers > 1 else ""
    if not service.ready:
        return f"serving nothing yet (model not ready) at {where} ({workers} worker{plural})"
    ident = service.identity
    label = ident["version"] or f"at {ident['commit'][:7]}"
    stage = f"stage {ident['stage']}, " if ident["stage"] else ""
    return (
        f"serving {ident['name']} {label} ({stage}md5 {ident['md5'][:8]}) at {where} "
        f"({workers} worker{plural})"
    )


@contextlib.contextmanager
def _quiet_signals() -> Iterator[None]:
    """SIGINT/SIGTERM are uvicorn's to handle; it raises them again once it has shut down
    gracefully, and that must end the command with 0, not as an interruption."""
    handled = (signal.SIGINT, signal.SIGTERM)
    before = {sig: signal.signal(sig, lambda *_: None) for sig in handled}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _multiprocess_metrics(workers: int) -> Iterator[None]:
    """A directory for prometheus-client's multiprocess mode (several workers only)."""
    if workers == 1:
        yield
        return
    directory = tempfile.mkdtemp(prefix="mergeml-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def _config(options: ServeOptions) -> object:
    import importlib.util

    import uvicorn

    return uvicorn.Config(
        APP,
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        http="httptools",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        lifespan="on",
        access_log=False,
        log_config=None,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        server_header=False,
    )


def _serve(options: ServeOptions, sock: socket.socket) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = _config(options)
    assert isinstance(config, uvicorn.Config)
    with _quiet_signals():
        if options.workers == 1:
            server = uvicorn.Server(config)
            server.run(sockets=[sock])
            if not server.started:
                raise MergemlError("the server did not start (see the messages above)")
            return
        with _multiprocess_metrics(options.workers):
            Multiprocess(config, sockets=[sock]).run()


def run(options: ServeOptions, say: Callable[[str, bool], None]) -> None:
    """Serve until SIGTERM/SIGINT; ``say(line, is_error)`` prints the start line (and, when
    the model is not ready, why on stderr)."""
    options.check()
    one_thread_env()  # before any worker loads an OpenMP or BLAS runtime
    sock = bind(options.host, options.port)
    try:
        service = load_service(
            options.model_dir, max_rows=options.max_rows, max_batch_rows=options.max_batch_rows
        )
        settings = Settings(
            str(options.model_dir),
            options.max_rows,
            options.max_body_mb,
            options.log_url,
            options.max_batch_rows,
        )
        os.environ[SETTINGS_ENV] = settings.to_env()
        if options.workers == 1:
            preload(service)
        if not service.ready:
            say(f"mergeml: model not ready: {service.reason}", True)
        say(start_line(service, url(options.host, sock), options.workers), False)
        _serve(options, sock)
    finally:
        sock.close()
