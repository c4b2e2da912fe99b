"""Static files of the pages: our own CSS/JS, and the front-end libraries the asset build copies
from node_modules into static/vendor/ (web/vendor.py; never committed). URLs carry a content hash
so browsers may cache them for a year."""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from katsuo.web import vendor

STATIC_DIR = Path(__file__).parent / "static"

log = logging.getLogger("katsuo.web")


class CachedStatic(StaticFiles):
    """Static files with a long cache lifetime when the URL is versioned by content (every URL a
    page emits); a module's own imports carry no version and are revalidated instead."""

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        if response.status_code == 200 and b"v=" in scope.get("query_string", b""):
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response


def mount(app: FastAPI, prefix: str) -> None:
    missing = vendor.missing()
    if missing:
        log.warning(
            "front-end libraries missing (%s): run scripts/setup.sh, or install a built wheel",
            ", ".join(missing),
        )
    app.mount(
        f"{prefix}/static", CachedStatic(directory=STATIC_DIR, check_dir=False), name="static"
    )


@cache
def version(relative: str) -> str:
    """A short content hash of a static file, for cache busting ("" if the file is missing)."""
    try:
        return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:10]
    except OSError:
        return ""
