"""The one scaffold for fake HTTP APIs on loopback (the fake GitHub of the comment and
release tests): a server that records every request, a quiet JSON handler, a serving block.

Loopback never goes through a proxy: the test environment (tests/helpers.py) lists it in
``NO_PROXY``, for the test process and every subprocess it starts.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

S = TypeVar("S", bound=ThreadingHTTPServer)


@dataclass
class Seen:
    """One request as the server received it (the path still percent-encoded)."""

    method: str
    path: str
    authorization: str | None
    body: bytes


class FakeServer(ThreadingHTTPServer):
    """A server on a free loopback port; ``log`` holds every request, guarded by ``lock``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.lock = threading.Lock()
        self.log: list[Seen] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class QuietHandler(BaseHTTPRequestHandler):
    """Sends GET, POST and PATCH to ``_handle``; keeps test output quiet."""

    def log_message(self, format: str, *args: Any) -> None:
        """No access log."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        raise NotImplementedError

    def _receive(self) -> bytes:
        """Read the request body and, on a FakeServer, append the request to its log."""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server = self.server
        if isinstance(server, FakeServer):
            seen = Seen(self.command, self.path, self.headers["Authorization"], raw)
            with server.lock:
                server.log.append(seen)
        return raw

    def _send(
        self,
        status: int,
        data: object,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        """Answer ``data`` as JSON (or the bytes ``raw`` as they are) with extra ``headers``."""
        payload = json.dumps(data).encode() if raw is None else raw
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)


@contextlib.contextmanager
def serving(server: S) -> Iterator[S]:
    """Run ``server`` in a thread for the duration of the block."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
