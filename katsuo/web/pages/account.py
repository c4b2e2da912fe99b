"""Login, the login cookie, logout, the profile (password) and API keys."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from katsuo.api.deps import AppServices, Conn, login_user
from katsuo.auth import browser
from katsuo.errors import Forbidden, Unauthorized
from katsuo.store.repositories import api_keys
from katsuo.web.next_path import safe_next
from katsuo.web.templating import AnyPage, UserPage, page_router

router = page_router()


@router.get("/")
def home(page: AnyPage) -> Response:
    return RedirectResponse(page.url("/websites" if page.user else "/login"), status_code=303)


@router.get("/login")
def login(page: AnyPage, next: str = "") -> Response:
    if page.settings.disable_login:
        # As Umami's Docker build does: only the page is refused, the API login keeps working.
        return PlainTextResponse("Access denied", status_code=403)
    target = safe_next(next, page.base) or page.url("/websites")
    if page.user is not None:
        return RedirectResponse(target, status_code=303)
    return page.render("login.html", next=target)


class SessionBody(BaseModel):
    token: str = Field(min_length=1, max_length=4096)


def _require_csrf_header(request: Request) -> None:
    if not request.headers.get(browser.CSRF_HEADER):
        raise Forbidden(f"The {browser.CSRF_HEADER} header is required")


@router.post("/session")
def start_session(body: SessionBody, request: Request, conn: Conn, svc: AppServices) -> Response:
    """Store a login token (from POST /api/auth/login) in the HttpOnly cookie."""
    _require_csrf_header(request)
    if login_user(conn, svc, body.token)[0] is None:
        raise Unauthorized()
    response = JSONResponse({"ok": True})
    settings = request.app.state.settings
    browser.set_login_cookie(response, body.token, settings, secure=request.url.scheme == "https")
    return response


@router.delete("/session")
def end_session(request: Request) -> Response:
    _require_csrf_header(request)
    response = JSONResponse({"ok": True})
    browser.clear_login_cookie(response, request.app.state.settings)
    return response


@router.get("/settings")
def settings_home(page: UserPage) -> Response:
    return RedirectResponse(page.url("/settings/profile"), status_code=303)


@router.get("/settings/profile")
def profile(page: UserPage) -> Response:
    return page.render("settings/profile.html")


@router.get("/settings/api-keys")
def api_key_list(page: UserPage) -> Response:
    keys = api_keys.list_for_user(page.conn, page.user.id)
    return page.render_part("settings/api_keys.html", "settings/_api_key_rows.html", keys=keys)
