"""The ASGI layer in front of every route of `mergeml serve`: the request id, the content
type and body-size limits (enforced on the raw bytes before any parsing, chunked bodies
included), and the request metrics.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mergeml.serve.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID = "x-request-id"
MAX_REQUEST_ID = 200  # characters of a client's id kept
JSON_TYPES = ("application/json",)
CSV_PATHS = ("/invocations",)


class TooLarge(Exception):
    """The body passed the limit while it was read."""


def error_body(message: str, problems: tuple[dict[str, object], ...] = ()) -> bytes:
    return json.dumps({"error": message, "problems": list(problems)}).encode()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def client_request_id(value: str | None) -> str:
    """The client's id when it is short printable ASCII (a header can carry it back),
    else a new uuid4."""
    if value and len(value) <= MAX_REQUEST_ID and value.isascii() and value.isprintable():
        return value
    return str(uuid.uuid4())


class ServeMiddleware:
    """Wraps the FastAPI app (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["request_id"] = client_request_id(_header(scope, b"x-request-id"))
        started = time.perf_counter()
        status: dict[str, int] = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", state["request_id"].encode("latin-1", "replace")))
                message["headers"] = headers
            await send(message)

        try:
            refused = self._refuse(scope)
            if refused is None and scope["method"] in ("POST", "PUT", "PATCH"):
                receive, refused = await self._buffered(scope, receive)
            if refused is not None:
                await self._reply(send_with_id, *refused)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "other"
            self.metrics.requests.labels(endpoint=endpoint, status=str(status["code"])).inc()
            self.metrics.latency.labels(endpoint=endpoint).observe(time.perf_counter() - started)

    def _refuse(self, scope: Scope) -> tuple[int, str, str] | None:
        """(status, kind, message) for a request refused on its headers alone."""
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return None
        ctype = (_header(scope, b"content-type") or "application/json").split(";")[0].strip()
        allowed = JSON_TYPES + (("text/csv",) if scope["path"] in CSV_PATHS else ())
        if ctype.lower() not in allowed:
            return 415, "content_type", f"Content-Type {ctype} is not {' or '.join(allowed)}"
        if _header(scope, b"content-type") is None:  # a body without a type is read as JSON
            scope["headers"] = [*scope.get("headers", []), (b"content-type", b"application/json")]
        length = _header(scope, b"content-length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_body:
            return 413, "body", self._too_large()
        return None

    def _too_large(self) -> str:
        mib = self.max_body / 2**20
        return f"request body larger than {mib:g} MiB (--max-body-mb)"

    async def _buffered(
        self, scope: Scope, receive: Receive
    ) -> tuple[Receive, tuple[int, str, str] | None]:
        """The whole body read up to the limit, and a receive that replays it."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return receive, (413, "body", self._too_large())
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay, None

    async def _reply(self, send: Send, status: int, kind: str, message: str) -> None:
        self.metrics.errors.labels(kind=kind).inc()
        body = error_body(message)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
