"""The routes of `mergeml serve` and its error bodies: every refusal is
``{"error": "<one line>", "problems": [...]}`` with a 4xx status (503 while not ready)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from mergeml.errors import RequestError
from mergeml.serve import invocations, v2
from mergeml.serve.app import now, record, require
from mergeml.serve.middleware import client_request_id, error_body

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mergeml.serve.service import Service

router = APIRouter()
# The bodies of the scoring routes are read and validated by the routes themselves (one
# pydantic pass over the raw bytes, no FastAPI body machinery on the hot path); the OpenAPI
# document still describes them, their models under components/schemas (`install_openapi`).
BODY_MODELS: tuple[type[BaseModel], ...] = (v2.InferRequest, invocations.Envelope)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


V2_BODY = {"required": True, "content": {"application/json": {"schema": _ref(v2.InferRequest)}}}
INVOCATIONS_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": _ref(invocations.Envelope)},
        "text/csv": {"schema": {"type": "string"}},
    },
}


class Feedback(BaseModel):
    """The true label of row ``row`` of the request ``request_id``."""

    request_id: str = Field(min_length=1, max_length=200)
    label: int | float | str | bool
    row: int = Field(default=0, ge=0)


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _ready_body(service: Service) -> JSONResponse:
    if service.ready:
        return JSONResponse({"ready": True})
    return JSONResponse({"ready": False, "error": f"not ready: {service.reason}"}, status_code=503)


def _model(request: Request, name: str, version: str | None = None) -> Service:
    """The service when ``name`` (and ``version``) are the model's; 404 otherwise."""
    service = _service(request)
    service.require_ready()
    identity = service.identity
    require(
        name == identity["name"],
        f"no model named {name!r}: this server serves {identity['name']!r}",
        404,
    )
    if version is not None:
        require(
            version == identity["version"],
            f"no version {version!r} of {name!r}: this server serves "
            f"{identity['version'] or 'an unversioned model'}",
            404,
        )
    return service


@router.get("/v2/health/live", tags=["v2"])
async def live() -> dict[str, bool]:
    """The process answers (200 even while the model is not ready)."""
    return {"live": True}


@router.get("/v2/health/ready", tags=["v2"])
async def ready(request: Request) -> JSONResponse:
    """200 when the model is loaded and verified, else 503 with the reason."""
    return _ready_body(_service(request))


@router.get("/v2/models/{name}", tags=["v2"])
async def model_metadata(request: Request, name: str) -> dict[str, Any]:
    """The model's name, version, inputs (from its input schema) and outputs."""
    service = _model(request, name)
    return v2.metadata(service.identity, service.columns, service.classes)


@router.get("/v2/models/{name}/ready", tags=["v2"])
async def model_ready(request: Request, name: str) -> JSONResponse:
    """200 when this model is ready, 503 when not, 404 for another name."""
    service = _service(request)
    if service.ready:
        _model(request, name)
    return _ready_body(service)


def _v2_request(raw: bytes) -> v2.InferRequest:
    """The V2 body, validated; refused as FastAPI refuses a body it validates."""
    from fastapi.exceptions import RequestValidationError

    try:
        return v2.InferRequest.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


async def _infer(request: Request, service: Service) -> Response:
    received = now()
    body = _v2_request(await request.body())
    if body.id:
        request.state.request_id = client_request_id(body.id)
    out = await service.score(v2.columns_of(body))
    record(request.app.state, request.state.request_id, received, out)
    return JSONResponse(v2.render(out, service.identity, request.state.request_id))


@router.post("/v2/models/{name}/infer", tags=["v2"], openapi_extra={"requestBody": V2_BODY})
async def infer(request: Request, name: str) -> Response:
    """Score the rows of a V2 request (one input per column)."""
    return await _infer(request, _model(request, name))


@router.post(
    "/v2/models/{name}/versions/{version}/infer",
    tags=["v2"],
    openapi_extra={"requestBody": V2_BODY},
)
async def infer_version(request: Request, name: str, version: str) -> Response:
    """As `infer`, when ``version`` is the version served."""
    return await _infer(request, _model(request, name, version))


@router.post("/invocations", tags=["mlflow"], openapi_extra={"requestBody": INVOCATIONS_BODY})
async def invoke(request: Request) -> dict[str, Any]:
    """MLflow's scoring protocol (JSON in four layouts, or CSV with a header)."""
    service = _service(request)
    service.require_ready()
    received = now()
    body = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "text/csv":
        frame = invocations.frame_from_csv(body, service.columns)
    else:
        frame = invocations.frame_from_json(body)
    out = await service.score(frame)
    record(request.app.state, request.state.request_id, received, out)
    return invocations.render(out, service.classes is not None)


@router.get("/ping", tags=["mlflow"])
async def ping(request: Request) -> JSONResponse:
    """MLflow's health check: 200 when ready, 503 when not."""
    return _ready_body(_service(request))


@router.get("/health", tags=["mlflow"])
async def health(request: Request) -> JSONResponse:
    """As /ping."""
    return _ready_body(_service(request))


@router.get("/version")
async def version(request: Request) -> dict[str, Any]:
    """The model served: name, version, stage, commit, md5 (and whether it is ready)."""
    service = _service(request)
    return {**service.identity, "ready": service.ready}


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus metrics (text exposition format)."""
    from mergeml.serve.metrics import CONTENT_TYPE

    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)


@router.post("/feedback", status_code=202)
async def feedback(request: Request, body: Feedback | list[Feedback]) -> dict[str, int]:
    """Record the true label of earlier predictions in the prediction log."""
    import pandas as pd

    log = request.app.state.log
    require(log is not None, "the prediction log is off (--log): feedback has nowhere to go", 503)
    items = body if isinstance(body, list) else [body]
    require(bool(items), "no feedback in the body", 422)
    frame = pd.DataFrame(
        {
            "request_id": [i.request_id for i in items],
            "row": [i.row for i in items],
            "label": [i.label for i in items],
        }
    )
    log.record_feedback(frame)
    return {"accepted": len(items)}


def _error(status: int, message: str, problems: tuple[dict[str, object], ...] = ()) -> Response:
    return Response(
        error_body(message, problems), status_code=status, media_type="application/json"
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error", "problems"}``; counted by kind in the metrics."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    errors = app.state.metrics.errors

    async def on_request_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        kind = "not_ready" if exc.status == 503 else "schema" if exc.problems else "request"
        errors.labels(kind=kind).inc()
        return _error(exc.status, str(exc), exc.problems)

    async def on_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        found = list(exc.errors())
        bad_json = any(e.get("type") == "json_invalid" for e in found)
        errors.labels(kind="json" if bad_json else "envelope").inc()
        return _error(400 if bad_json else 422, invocations.errors_line(found))

    async def on_http(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        errors.labels(kind="http").inc()
        return _error(exc.status_code, str(exc.detail))

    async def on_other(_request: Request, exc: Exception) -> Response:
        errors.labels(kind="internal").inc()
        return _error(500, f"internal error ({type(exc).__name__})")

    app.add_exception_handler(RequestError, on_request_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_other)


def install_openapi(app: FastAPI) -> None:
    """Add the scoring bodies' models (and the models they use) to the OpenAPI
    document's components, where the routes' ``$ref`` point."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            for model in BODY_MODELS:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def add_routes(app: FastAPI) -> None:
    app.include_router(router)
    install_openapi(app)
