"""The test console (ENABLE_TEST_CONSOLE, administrators only): a page that loads the tracker for
a chosen website and fires pageviews, events and identities at it, as Umami's `/console` does."""

from __future__ import annotations

from uuid import UUID

from fastapi.responses import RedirectResponse, Response

from katsuo.store.repositories import websites
from katsuo.web.pages.websites import tracker_script_path
from katsuo.web.templating import AdminPage, PageError, page_router

router = page_router()


def _enabled(page) -> None:
    if not page.settings.enable_test_console:
        raise PageError(404, "Page not found")


@router.get("/console")
def console_home(page: AdminPage) -> Response:
    _enabled(page)
    listed = websites.list_all(page.conn, search=None, page=1, page_size=1)
    if listed.data:
        return RedirectResponse(page.url(f"/console/{listed.data[0].id}"), status_code=303)
    return page.render("console.html", website=None, choices=[])


@router.get("/console/{website_id}")
def console(page: AdminPage, website_id: UUID) -> Response:
    _enabled(page)
    website = websites.get(page.conn, website_id)
    if website is None:
        raise PageError(404, "Website not found")
    choices = websites.list_all(page.conn, search=None, page=1, page_size=500).data
    return page.render(
        "console.html",
        website=website,
        choices=choices,
        script_path=tracker_script_path(page.settings),
    )
