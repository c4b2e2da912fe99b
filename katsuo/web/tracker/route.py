"""Serves the tracker at /script.js and at every TRACKER_SCRIPT_NAME path (spec tracker.md §1)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response

from katsuo.config import Settings
from katsuo.web.tracker import build

DEFAULT_PATH = "/script.js"


def router(settings: Settings) -> APIRouter:
    """One route per serving path, each answering with its script baked once at start."""
    routes = APIRouter(include_in_schema=False)
    text = build.template()
    for path in dict.fromkeys((DEFAULT_PATH, *settings.tracker_script_names)):
        routes.add_api_route(
            path, _serve(build.bake(text, settings, path).encode()), methods=["GET", "HEAD"]
        )
    return routes


def _serve(body: bytes):
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        # Any site may load it; browsers and CDNs keep it a day, then revalidate by ETag.
        "Access-Control-Allow-Origin": "*",
        "Cache-Control": "public, max-age=86400, must-revalidate",
        "ETag": etag,
    }

    async def tracker_script(request: Request) -> Response:
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)

    return tracker_script
