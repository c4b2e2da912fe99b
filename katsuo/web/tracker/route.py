"""Serves the tracker at /script.js and at every TRACKER_SCRIPT_NAME path: Katsuo's own script with
the collect settings baked in, or, with TRACKER_SCRIPT_URL, a proxied one
(docs/collection.md#the-tracker-script).
"""

from __future__ import annotations

import hashlib
import logging
import time
import urllib.request

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from katsuo.config import Settings
from katsuo.web.tracker import build

log = logging.getLogger("katsuo.tracker")

DEFAULT_PATH = "/script.js"
HEADERS = {
    # Any site may load it; browsers and CDNs keep it a day, then revalidate by ETag.
    "Access-Control-Allow-Origin": "*",
    "Cache-Control": "public, max-age=86400, must-revalidate",
}
PROXY_TTL = 3600.0  # how long a proxied script is reused before it is fetched again
PROXY_RETRY = 60.0  # after a failed fetch, how long the last good copy is served before retrying
PROXY_TIMEOUT = 10.0


def router(settings: Settings) -> APIRouter:
    routes = APIRouter(include_in_schema=False)
    paths = dict.fromkeys((DEFAULT_PATH, *settings.tracker_script_names))
    if settings.tracker_script_url:
        proxied = _proxied(settings.tracker_script_url)
        for path in paths:
            routes.add_api_route(path, proxied, methods=["GET", "HEAD"])
        return routes
    text = build.template()
    for path in paths:
        routes.add_api_route(
            path, _baked(build.bake(text, settings, path).encode()), methods=["GET", "HEAD"]
        )
    return routes


def _answer(request: Request, body: bytes, etag: str) -> Response:
    headers = {**HEADERS, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _baked(body: bytes):
    etag = _etag(body)

    async def tracker_script(request: Request) -> Response:
        return _answer(request, body, etag)

    return tracker_script


def _download(url: str) -> bytes:
    # The setting only admits http(s) URLs, so urlopen cannot be turned onto local files.
    with urllib.request.urlopen(url, timeout=PROXY_TIMEOUT) as response:
        return response.read()


def _proxied(url: str):
    """The script from TRACKER_SCRIPT_URL, refreshed hourly; when the source fails, the last good
    copy is served, and without one a 502 says what is missing."""
    copy: dict = {"body": None, "etag": "", "fresh_until": 0.0}

    async def tracker_script(request: Request) -> Response:
        if time.monotonic() >= copy["fresh_until"]:
            try:
                body = await run_in_threadpool(_download, url)
                copy.update(body=body, etag=_etag(body), fresh_until=time.monotonic() + PROXY_TTL)
            except OSError as error:
                log.warning("tracker: cannot fetch TRACKER_SCRIPT_URL %s: %s", url, error)
                copy["fresh_until"] = time.monotonic() + PROXY_RETRY
        if copy["body"] is None:
            return Response(
                "The tracker script source (TRACKER_SCRIPT_URL) is unreachable", status_code=502
            )
        return _answer(request, copy["body"], copy["etag"])

    return tracker_script
