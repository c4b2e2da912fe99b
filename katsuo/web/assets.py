"""Static files of the pages: our own CSS/JS, and the front-end libraries that setup copies from
node_modules into static/vendor/ (never committed). URLs carry a content hash so browsers may
cache them for a year."""

from __future__ import annotations

import hashlib
import logging
import shutil
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
# What setup copies (scripts/setup.sh): node_modules path -> file name under static/vendor/.
VENDOR_FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "alpinejs/dist/cdn.min.js": "alpine.min.js",
    "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
    "chartjs-chart-geo/build/index.umd.min.js": "chartjs-chart-geo.min.js",
    # The world map's shapes (numeric ISO 3166 ids) and the table from those ids to the
    # alpha-2 codes the API reports countries by.
    "world-atlas/countries-110m.json": "countries-110m.json",
    "i18n-iso-countries/codes.json": "country-codes.json",
    # English country names: what the pages show for a country code and what filters accept.
    "i18n-iso-countries/langs/en.json": "country-names.json",
    # The API's documentation page (/api/docs), served from here rather than a CDN.
    "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui.css": "swagger-ui.css",
}

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
    missing = [name for name in VENDOR_FILES.values() if not (STATIC_DIR / "vendor" / name).exists()]
    if missing:
        log.warning("front-end libraries missing (%s): run scripts/setup.sh", ", ".join(missing))
    app.mount(f"{prefix}/static", CachedStatic(directory=STATIC_DIR, check_dir=False), name="static")


@cache
def version(relative: str) -> str:
    """A short content hash of a static file, for cache busting ("" if the file is missing)."""
    try:
        return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:10]
    except OSError:
        return ""


def install_vendor(node_modules: Path) -> None:
    """Copy the pinned libraries out of node_modules (run by scripts/setup.sh after `npm ci`)."""
    target = STATIC_DIR / "vendor"
    target.mkdir(exist_ok=True)
    for source, name in VENDOR_FILES.items():
        shutil.copyfile(node_modules / source, target / name)
