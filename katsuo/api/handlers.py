"""Exception handlers: every error leaves as Umami's JSON error shape, never as an HTML page."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from katsuo.errors import ApiError, BadRequest

log = logging.getLogger("katsuo.api")

_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed"}


def _field(loc: tuple) -> str:
    # ("body", "payload", "name") -> "payload.name"; ("query", "pageSize") -> "pageSize"; only
    # the first item is the location (a query parameter may be called `path`).
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    parts = [str(p) for p in loc]
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


def http_error(exc: HTTPException) -> JSONResponse:
    """Starlette's own errors (no such route, method not allowed) in Umami's JSON shape."""
    code = _HTTP_CODES.get(exc.status_code, "error")
    body = {"error": {"message": str(exc.detail), "code": code, "status": exc.status_code}}
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything unforeseen: logged once with its traceback, answered with Umami's JSON 500. A
    client that went away while sending its body is no error of ours: one DEBUG line, and a 400
    nobody will read."""
    if isinstance(exc, ClientDisconnect):
        log.debug("client disconnected during %s %s", request.method, request.url.path)
        return JSONResponse(BadRequest("Client disconnected").body(), status_code=400)
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(ApiError().body(), status_code=500)


class UnexpectedErrors:
    """ASGI middleware answering what no handler caught with `unexpected_error`. Starlette's own
    catch-all (ServerErrorMiddleware) re-raises after answering, so the server logs the error a
    second time and drops the kept-alive connection; this one answers and is done. An error after
    the response started cannot be answered any more and still goes up."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            await unexpected_error(Request(scope), exc)(scope, receive, send)


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
        return http_error(exc)

    app.add_middleware(UnexpectedErrors)
