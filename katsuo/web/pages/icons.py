"""The site's own icon at /favicon.ico, for browsers and tools that ask there instead of reading the
pages' <link rel="icon"> (which points at the same SVG under /static)."""

from __future__ import annotations

from fastapi.responses import FileResponse

from katsuo.web.assets import STATIC_DIR
from katsuo.web.templating import page_router

router = page_router()


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
