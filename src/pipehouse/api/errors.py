"""Exceptions -> HTTP answers. Clients of the OpenAI API get OpenAI-shaped errors (with
`detail` too, which Open WebUI's callers read); a plugin's error names the plugin; secret valve
values never leave in a message; anything unexpected is a bare 500 with a request id."""

from __future__ import annotations

import logging
from typing import cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from pipehouse.api.body_limit import BodyTooLarge
from pipehouse.api.environments import building_response
from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.valves import ValvesError
from pipehouse.runtime.encoding import error_body
from pipehouse.runtime.errors import ModelNotFound, RequestError
from pipehouse.service.errors import ServiceError
from pipehouse.store.outage import OUTAGE_ERRORS, UNAVAILABLE, database_unavailable
from pipehouse.upstream.client import UpstreamError

log = logging.getLogger("pipehouse.api")


class FieldError(BaseModel):
    """One problem in a request, the shape of every validation error in this API: `field` is the
    dotted path in the body, query or path ("" for the body as a whole)."""

    field: str
    message: str
    type: str


def field_errors(error: RequestValidationError) -> list[dict[str, str]]:
    return [
        FieldError(
            field=".".join(str(p) for p in e["loc"][1:]), message=e["msg"], type=e["type"]
        ).model_dump()
        for e in error.errors()
    ]


def document_field_errors(schema: dict) -> None:
    """Make the OpenAPI schema's 422 answers say what the server sends (`{detail: [{field,
    message, type}]}`) instead of FastAPI's `{loc, msg, type}`, so that schema-driven clients
    and the server agree."""
    components = schema.get("components", {}).get("schemas", {})
    if "ValidationError" in components:
        components["ValidationError"] = FieldError.model_json_schema() | {
            "title": "ValidationError"
        }


# Every error answer of this API (4xx and 5xx alike) has `detail`: a string, a list of
# `FieldError`s (422) or an object (a plugin's load error); the OpenAI-shaped ones also have
# `error` with at least `message` and `type`. Documented on every operation as "4XX" and
# "5XX", so a schema-driven client (or a fuzzer) knows every answer, not only 200 and 422.
ERROR_ANSWER: dict = {
    "title": "ErrorAnswer",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]},
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {"message": {"type": "string"}, "type": {"type": "string"}},
        },
    },
}


def document_error_answers(schema: dict) -> None:
    """Add the shape of error answers (`ERROR_ANSWER`) to every operation as "4XX" and "5XX",
    beside what it documents already (200, 422)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["ErrorAnswer"] = ERROR_ANSWER
    answer = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorAnswer"}}},
    }
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("4XX", answer)
            responses.setdefault("5XX", answer)


def plugin_status(error: PluginError) -> int:
    """Inlet filters refuse a request (400, as Open WebUI); a failing pipe is a bad gateway."""
    if error.error_type == "Timeout":
        return 504
    if isinstance(error, ValvesError):
        return 500
    if error.stage == "load":
        return 503
    if error.stage in ("inlet", "request"):
        return 400
    return 502


async def redacted(request: Request, error: PluginError) -> PluginError:
    """`error` with every secret value the server holds hidden (`pipehouse.redaction`): what
    may leave in a response, a stream frame or a log line. Built only on the error path."""
    runtime = getattr(request.app.state, "runtime", None)
    return (await runtime.redactor()).error(error) if runtime is not None else error


def plugin_error_response(
    request: Request, error: PluginError, *, plain_detail: bool = False
) -> JSONResponse:
    """OpenAI-shaped, naming the plugin, hook and line; `detail` repeats the message, or holds
    only the plugin's own words: with `plain_detail` (as the Pipelines server answers) and for
    an inlet's refusal, which Open WebUI answers as 400 `{"detail": str(e)}` (open_webui/main.py
    `chat_completion`, 0.12.4) and its UI shows as the chat's error. `error` has been through
    `redacted`."""
    message = error.message
    body = error_body(
        f"plugin '{error.plugin_id}' ({error.stage}): {message}",
        type_="plugin_error",
        code=error.error_type,
        plugin=error.plugin_id,
        stage=error.stage,
        line=error.line,
    )
    if error.hint:
        body["error"]["hint"] = error.hint
    plain = plain_detail or error.stage in ("inlet", "request")
    body["detail"] = message if plain else body["error"]["message"]
    # OpenAI SDKs retry a 5xx twice unless told not to: a plugin's failure would run it (and any
    # side effects) three times for one request.
    return JSONResponse(body, status_code=plugin_status(error), headers={"x-should-retry": "false"})


def install(app: FastAPI) -> None:
    async def _database(request: Request, error: Exception) -> JSONResponse:
        if not database_unavailable(error):
            raise error
        log.warning("database unavailable (%s): %s", type(error).__name__, request.url.path)
        body = error_body(UNAVAILABLE, type_="server_error", code="database_unavailable")
        body["detail"] = UNAVAILABLE
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})

    for database_error in OUTAGE_ERRORS:  # each an Exception (Starlette handles no other kind)
        app.add_exception_handler(cast(type[Exception], database_error), _database)

    @app.exception_handler(PluginError)
    async def _plugin(request: Request, error: PluginError) -> JSONResponse:
        error = await redacted(request, error)
        log.warning("plugin error: %s", error)
        return plugin_error_response(request, error)

    @app.exception_handler(UpstreamError)
    async def _upstream(request: Request, error: UpstreamError) -> JSONResponse:
        log.warning("upstream error: %s", error.message)
        body = error_body(
            error.message, type_="upstream_error", code=error.status, upstream=error.connection_id
        )
        body["detail"] = error.message
        # a rate limit is worth retrying; a refusal or an outage three times over is not
        headers = None if error.status == 429 else {"x-should-retry": "false"}
        return JSONResponse(body, status_code=error.status, headers=headers)

    @app.exception_handler(RequestError)
    async def _request(request: Request, error: RequestError) -> JSONResponse:
        if isinstance(error, ModelNotFound):
            building = building_response(request, error.model)
            if building is not None:
                return building
        body = error_body(
            str(error), type_=error.type, code=getattr(error, "code", None), param=error.param
        )
        body["detail"] = str(error)
        return JSONResponse(body, status_code=error.status)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, error: BodyTooLarge) -> JSONResponse:
        body = error_body(error.detail, type_="invalid_request_error", code="request_too_large")
        body["detail"] = error.detail
        return JSONResponse(body, status_code=413)

    @app.exception_handler(ServiceError)
    async def _service(request: Request, error: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": field_errors(error)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": error.detail}, status_code=error.status_code, headers=error.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        request_id = request.scope.get("state", {}).get("request_id")
        # Starlette raises the error on to the server after this answer, and uvicorn then
        # closes the connection: say so, or a keep-alive client's next request meets a reset.
        return JSONResponse(
            {"detail": "Internal server error", "request_id": request_id},
            status_code=500,
            headers={"Connection": "close"},
        )
