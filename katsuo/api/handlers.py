"""Exception handlers: every error leaves as Umami's JSON error shape, never as an HTML page."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from katsuo.errors import ApiError, BadRequest

log = logging.getLogger("katsuo.api")

_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed"}


def _field(loc: tuple) -> str:
    # ("body", "payload", "name") -> "payload.name"; ("query", "pageSize") -> "pageSize"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_error(exc: RequestValidationError) -> BadRequest:
    errors = []
    for error in exc.errors():
        message = error.get("msg", "Invalid value")
        if error.get("type") == "json_invalid":
            message = "Request body is not valid JSON"
        errors.append({"field": _field(tuple(error.get("loc", ()))), "message": message})
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return BadRequest(summary or "Bad request", errors=errors)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything unforeseen: logged with its traceback, answered with Umami's JSON 500."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(ApiError().body(), status_code=500)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        error = validation_error(exc)
        return JSONResponse(error.body(), status_code=error.status)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        code = _HTTP_CODES.get(exc.status_code, "error")
        body = {"error": {"message": str(exc.detail), "code": code, "status": exc.status_code}}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    app.exception_handler(Exception)(unexpected_error)
