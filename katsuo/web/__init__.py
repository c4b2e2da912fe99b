"""What browsers load from Katsuo: the dashboard's server-rendered pages (Jinja2 + htmx +
Alpine.js, over the same repositories, permission policy and JSON API as every other client),
their static assets, and the tracker script (web/tracker/)."""

from __future__ import annotations

from fastapi import FastAPI

from katsuo.web import assets, pages
from katsuo.web.templating import install_handlers


def install(app: FastAPI, prefix: str) -> None:
    """Mount the static files and page routes under BASE_PATH."""
    assets.mount(app, prefix)
    for router in pages.ROUTERS:
        app.include_router(router, prefix=prefix)
    install_handlers(app)
