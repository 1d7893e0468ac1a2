"""The FastAPI app of `mergeml serve`: Open Inference Protocol V2, MLflow's /invocations,
health, version, metrics and feedback over one `Service`.

`create_app` is the factory uvicorn calls in each worker; the settings come from the
arguments or, in a worker process, from the ``MERGEML_SERVE_*`` environment the parent set.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.errors import RequestError, UsageError
from mergeml.serve.batcher import DEFAULT_MAX_BATCH_ROWS
from mergeml.serve.service import (
    DEFAULT_MAX_BODY_MB,
    DEFAULT_MAX_ROWS,
    Scores,
    Service,
    load_service,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

SETTINGS_ENV = "MERGEML_SERVE_SETTINGS"
_preloaded: dict[str, Service] = {}  # the parent's service, reused by a single worker


@dataclass(frozen=True)
class Settings:
    """What `mergeml serve` passes to each worker."""

    model_dir: str
    max_rows: int = DEFAULT_MAX_ROWS
    max_body_mb: float = DEFAULT_MAX_BODY_MB
    log_url: str | None = None  # None: no prediction log
    max_batch_rows: int = DEFAULT_MAX_BATCH_ROWS

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> Settings:
        text = os.environ.get(SETTINGS_ENV)
        if not text:
            raise UsageError(f"${SETTINGS_ENV} is not set: start the server with `mergeml serve`")
        return cls(**json.loads(text))


def preload(service: Service) -> None:
    """Hand ``service`` (loaded by the parent) to a factory call in the same process."""
    _preloaded[str(service.directory)] = service


def _service(settings: Settings) -> Service:
    held = _preloaded.pop(settings.model_dir, None)
    if held is not None:
        return held
    return load_service(
        Path(settings.model_dir),
        max_rows=settings.max_rows,
        max_batch_rows=settings.max_batch_rows,
    )


def _open_log(settings: Settings, on_event: Any) -> Any:
    if settings.log_url is None:
        return None
    from mergeml.serve.predlog import PredictionLog

    return PredictionLog(settings.log_url, on_event=on_event)


def _freeze_startup_objects() -> None:
    """The model and the libraries live as long as the worker: keep them out of the
    garbage collector's later full passes, which would otherwise walk all of them and pause
    every request in flight (`gc.freeze`)."""
    import gc

    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app serving ``settings.model_dir``."""
    from fastapi import FastAPI

    from mergeml.serve.metrics import Metrics
    from mergeml.serve.middleware import ServeMiddleware
    from mergeml.serve.routes import add_routes, install_error_handlers

    settings = settings or Settings.from_env()
    service = _service(settings)
    metrics = Metrics()
    service.on_batch = metrics.batch_rows.observe
    log = _open_log(settings, metrics.log_event)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.start()
        _freeze_startup_objects()
        if service.ready:
            metrics.model(service.identity)
        if log is not None:
            log.start()
        try:
            yield
        finally:
            service.stop()  # in-flight scoring finishes first
            if log is not None:
                log.close()

    app = FastAPI(
        title="mergeml serve",
        version=service.identity["version"] or "unversioned",
        description="Open Inference Protocol V2 and MLflow /invocations for one model.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.metrics = metrics
    app.state.log = log
    install_error_handlers(app)
    add_routes(app)
    max_body = int(settings.max_body_mb * 2**20)
    app.add_middleware(ServeMiddleware, metrics=metrics, max_body_bytes=max_body)
    return app


def record(app_state: Any, request_id: str, received: datetime, out: Scores) -> None:
    """Count the rows and hand the prediction to the log (never raises): the feature
    columns only (as scored, in schema order), whatever else the client sent."""
    app_state.metrics.rows.inc(len(out))
    log = app_state.log
    if log is not None:
        with contextlib.suppress(Exception):  # the log's own contract: never raise
            log.record(request_id, received, app_state.service.identity, out.inputs, out.outputs())


def now() -> datetime:
    return datetime.now(UTC)


def require(condition: bool, message: str, status: int) -> None:
    if not condition:
        raise RequestError(message, status=status)
