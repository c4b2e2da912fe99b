"""Collection endpoints: `/api/send` (and its COLLECT_API_ENDPOINT alias), `/api/batch`, short
links `/q/<slug>` and pixels `/p/<slug>`.

Plain Starlette routes rather than FastAPI ones: this is the hot path, and dependency injection
and pydantic would cost more than the whole pipeline. For the same reason their POSTs are answered
ahead of the app's middleware stack (app.KatsuoApp, `hot_paths`). The request is answered once
its rows are durable: committed, or in the collect journal of an embedded DuckDB
(katsuo/collect/writer.py).
"""

from __future__ import annotations

import asyncio
import base64

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from katsuo.collect import slugs
from katsuo.collect.collector import Collector
from katsuo.collect.payload import parse_body
from katsuo.collect.urls import is_web_url
from katsuo.collect.writer import WriterClosed
from katsuo.config import Settings
from katsuo.errors import ApiError, NotFound

MAX_SEND_BYTES = 1 << 20
MAX_BATCH_BYTES = 16 << 20
# A transparent 1x1 GIF (43 bytes), the pixel's answer.
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
_PIXEL_HEADERS = {
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}


def _json(status: int, body: dict) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _error(error: ApiError) -> Response:
    return _json(error.status, error.body())


class _TooLarge(ApiError):
    status, code, default_message = 413, "payload-too-large", "Request body is too large"


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _headers(request: Request) -> dict[str, str]:
    """The request's headers as a plain dict (first value wins, as Starlette's `get`): the
    pipeline looks up a dozen names per hit, and Starlette's Headers scans its list each time."""
    found: dict[str, str] = {}
    for name, value in request.scope["headers"]:
        found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


def _collector(request: Request) -> Collector:
    return request.app.state.services.collector


async def _answer(request: Request, limit: int, many: bool) -> Response:
    collector = _collector(request)
    try:
        body = parse_body(await _read(request, limit))
        handle = collector.send_many if many else collector.send
        status, answer = await handle(body, _headers(request))
    except ApiError as error:
        return _error(error)
    except WriterClosed:
        return _json(
            503, {"error": {"message": "Shutting down", "code": "unavailable", "status": 503}}
        )
    return _json(status, answer)


async def send(request: Request) -> Response:
    return await _answer(request, MAX_SEND_BYTES, many=False)


async def batch(request: Request) -> Response:
    return await _answer(request, MAX_BATCH_BYTES, many=True)


async def _find(request: Request, kind: str):
    """The live link or pixel of the path's slug, or None."""
    slug = request.path_params["slug"]
    if not slugs.well_formed(slug):
        return None
    cache: slugs.SlugCache = request.app.state.services.slugs
    known, found = cache.cached(kind, slug)
    if not known:
        found = await asyncio.to_thread(cache.lookup, kind, slug)
    return found


async def _record(request: Request, kind: str, source_id) -> None:
    """Run the /api/send pipeline for a link or pixel hit; its outcome (even a reject) is ignored,
    as Umami ignores it."""
    payload = {kind: str(source_id), "url": str(request.url)}
    referrer = request.headers.get("referer")
    if referrer:
        payload["referrer"] = referrer
    try:
        await _collector(request).send({"type": "event", "payload": payload}, _headers(request))
    except WriterClosed:
        pass


def routes(settings: Settings) -> list[Route]:
    async def link(request: Request) -> Response:
        found = await _find(request, "link")
        # Links are checked on create and update; one stored otherwise (by Umami, or by hand)
        # that is not an http(s) URL is never redirected to.
        if found is None or not is_web_url(found.url):
            return _error(NotFound())
        await _record(request, "link", found.id)
        return RedirectResponse(found.url, status_code=307)

    async def pixel(request: Request) -> Response:
        found = await _find(request, "pixel")
        if found is None:
            return _error(NotFound())
        await _record(request, "pixel", found.id)
        return Response(PIXEL_GIF, media_type="image/gif", headers=_PIXEL_HEADERS)

    prefix = settings.base_path
    paths = {f"{prefix}/api/send", f"{prefix}{settings.collect_api_endpoint}"}
    table = [Route(path, send, methods=["POST"]) for path in sorted(paths)]
    table += [
        Route(f"{prefix}/api/batch", batch, methods=["POST"]),
        Route(f"{prefix}/q/{{slug}}", link, methods=["GET"]),
        Route(f"{prefix}/p/{{slug}}", pixel, methods=["GET"]),
    ]
    if settings.bench_noop:
        table.append(Route(f"{prefix}/api/bench/noop", noop, methods=["POST"]))
    return table


def hot_paths(table: list[Route]) -> dict:
    """Path → endpoint of the POST routes of `table` without path parameters: the app answers
    these ahead of its middleware stack (app.KatsuoApp)."""
    return {
        route.path: route.endpoint
        for route in table
        if "POST" in (route.methods or ()) and not route.param_convertors
    }


async def answer_hot(scope, receive, send) -> None:
    """ASGI: run the endpoint KatsuoApp found for this path (the app wraps it in the same
    catch-all as every other route, handlers.UnexpectedErrors)."""
    response = await scope["endpoint"](Request(scope, receive))
    await response(scope, receive, send)


async def noop(request: Request) -> Response:
    """Benchmark baseline (KATSUO_BENCH_NOOP=1 only): read and parse the body, answer like /api/send
    would, store nothing: what the HTTP stack alone costs."""
    parse_body(await _read(request, MAX_SEND_BYTES))
    return _json(200, {"cache": "", "sessionId": "", "visitId": ""})
