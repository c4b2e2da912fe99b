"""Administration: every user account (list, create, edit role and password, delete)."""

from __future__ import annotations

from fastapi.responses import Response

from katsuo.store.repositories import users
from katsuo.web.templating import AdminPage, PageNumber, SearchText, page_router

router = page_router()


@router.get("/settings/users")
def user_list(page: AdminPage, q: SearchText = "", p: PageNumber = 1) -> Response:
    listed = users.list_all(page.conn, search=q or None, page=p, page_size=20)
    return page.render_part("settings/users.html", "settings/_user_rows.html", listed=listed, q=q)
