"""How a browser authenticates to the dashboard and to the JSON API.

Decision: the browser logs in through the JSON API like any other client (`POST /api/auth/login`),
then hands the returned login token to `POST /session`, which checks it and stores it in an
HttpOnly, SameSite=Lax cookie scoped to BASE_PATH. From then on the same token authenticates
pages and API calls: `api.deps.current_actor` falls back to this cookie when a request carries
neither an `Authorization` header nor an API key, so the API stays the one implementation of
validation and permissions and pages never see a second login mechanism.

Cross-site request forgery: a cookie-authenticated request that changes something (any method
but GET/HEAD/OPTIONS) must carry the header `X-Katsuo-CSRF`. Pages send it from htmx and from
their fetch helper. Another site cannot: SameSite=Lax keeps the cookie off its sub-requests,
and a custom header forces a CORS preflight, which credentialed requests fail because the API
answers `Access-Control-Allow-Origin: *` without `Allow-Credentials`. Requests authenticated by
header (bearer token, API key) are not affected: they are not ambient credentials.

Logging out calls `POST /api/auth/logout` (which ends a Redis-backed login) and then
`DELETE /session`, which expires the cookie.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from katsuo.config import Settings
from katsuo.errors import Forbidden

COOKIE = "katsuo_auth"
CSRF_HEADER = "x-katsuo-csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Without Redis a login token never expires (as in Umami); the cookie keeps it for 30 days.
COOKIE_MAX_AGE = 30 * 24 * 3600


def cookie_token(request: Request) -> str:
    """The login token of the cookie, or "" when there is none. Refuses a state-changing request
    that relies on the cookie without the CSRF header."""
    token = request.cookies.get(COOKIE, "").strip()
    if token and request.method not in SAFE_METHODS and not request.headers.get(CSRF_HEADER):
        raise Forbidden(
            f"Cookie-authenticated requests that change data must send the {CSRF_HEADER} header"
        )
    return token


def _path(settings: Settings) -> str:
    return (settings.base_path or "") + "/"


def set_login_cookie(response: Response, token: str, settings: Settings, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE,
        path=_path(settings),
        httponly=True,
        samesite="lax",
        secure=secure or settings.force_ssl,
    )


def clear_login_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(COOKIE, path=_path(settings), httponly=True, samesite="lax")
