"""The API's documentation at /api/docs: Swagger UI over /api/openapi.json, from the copy setup
installs into static/vendor/ (no CDN: the page loads nothing from another origin)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from katsuo.web import assets
from katsuo.web.templating import env, page_router

router = page_router()


@router.get("/api/docs")
def api_docs(request: Request) -> HTMLResponse:
    base = request.app.state.settings.base_path
    html = env.get_template("api_docs.html").render(
        openapi_url=f"{base}/api/openapi.json",
        static=lambda relative: f"{base}/static/{relative}?v={assets.version(relative)}",
    )
    return HTMLResponse(html)
