"""Rendering pages: the Jinja2 environment (everything escaped), the context every page gets
(who is looking, what they may do, their teams, BASE_PATH-aware URLs) and the page errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException

from katsuo import __version__
from katsuo.analytics import names
from katsuo.api import domains
from katsuo.api.deps import Conn, current_actor
from katsuo.api.handlers import http_error
from katsuo.api.inputs import SafeText
from katsuo.api.paging import MAX_PAGE
from katsuo.auth import browser, passwords
from katsuo.auth.permissions import Actor, can, hide_access_codes
from katsuo.store.records import Team
from katsuo.store.repositories import teams, users
from katsuo.web import assets

TEMPLATES = FilePath(__file__).parent / "templates"

# The pages' query and path text: what no engine could store (a NUL, a lone surrogate) or a page
# number past any offset the engines take is a 400, never a 500.
SearchText = Annotated[SafeText, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
SlugText = Annotated[SafeText, Path(max_length=100)]

# autoescape=True for every template, whatever its name: nothing reaches a page unescaped.
env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
)
env.globals.update(
    can=can,
    version=__version__,
    csrf_header=browser.CSRF_HEADER,
    password_min=passwords.MIN_LENGTH,
    password_max=passwords.MAX_LENGTH,
    domain_pattern=domains.HTML_PATTERN,
    domain_hint=domains.HINT,
)

ROLE_LABELS = {
    "admin": "Administrator",
    "user": "User",
    "view-only": "View only",
    "team-owner": "Owner",
    "team-manager": "Manager",
    "team-member": "Member",
    "team-view-only": "View only",
}
env.filters["role_label"] = lambda role: ROLE_LABELS.get(role, role)
env.globals["page_lists"] = names.page_lists
env.filters["field_label"] = names.field_label
env.filters["operator_label"] = lambda op: names.OPERATOR_LABELS.get(op, op)
env.filters["cohort_range"] = lambda key: names.COHORT_RANGES.get(key, key)


def _value_name(value: object, field: str, operator: str = "eq") -> str:
    """A saved filter's value as people read it: country "US" -> "United States"."""
    if operator not in ("eq", "neq") or not isinstance(value, str):
        return str(value)
    return ", ".join(names.display(field, v) for v in value.split(","))


env.filters["value_name"] = _value_name


def _time_tag(moment: datetime | None, style: str = "date", empty: str = "—") -> Markup:
    """A date for the page: a <time> element js/times.js formats in the reader's locale, like
    every date the scripts show; the ISO text inside is what shows without JavaScript."""
    if moment is None:
        return Markup(escape(empty))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the store's timestamps are UTC
    iso = moment.isoformat()
    shown = moment.strftime("%Y-%m-%d" if style == "date" else "%Y-%m-%d %H:%M UTC")
    return Markup(f'<time datetime="{escape(iso)}" data-format="{escape(style)}">{shown}</time>')


env.filters["time_tag"] = _time_tag


class PageError(Exception):
    """Ends a page request with an HTML error page (the API's errors stay JSON)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class LoginRequired(Exception):
    pass


class PageRoute(APIRoute):
    """A page's route: a page address whose parameters do not validate (a NUL in ?q=, a malformed
    id) is answered with the HTML error page, 400, like every other page error. The page
    modules' JSON endpoints (POST/DELETE /session) keep the API's JSON 400."""

    def get_route_handler(self):
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError:
                if request.method not in ("GET", "HEAD"):
                    raise
                raise PageError(400, "This address is not valid") from None

        return page


def page_router() -> APIRouter:
    return APIRouter(include_in_schema=False, route_class=PageRoute)


class Page:
    """What every page handler needs: the request, a database connection in one transaction, the
    acting identity and the settings; renders templates with the shared context."""

    def __init__(
        self, request: Request, conn: Conn, actor: Annotated[Actor, Depends(current_actor)]
    ):
        self.request = request
        self.conn = conn
        self.actor = actor
        self.settings = request.app.state.settings
        self.base = self.settings.base_path
        self.team: Team | None = None

    @property
    def user(self):
        return self.actor.user

    def url(self, path: str, **query: Any) -> str:
        """An absolute path under BASE_PATH, with an optional query string."""
        url = self.base + path
        pairs = [
            f"{key}={quote(str(value))}" for key, value in query.items() if value not in (None, "")
        ]
        return url + ("?" + "&".join(pairs) if pairs else "")

    def scoped(self, path: str) -> str:
        """A path inside the current context: the team's pages when a team is selected."""
        return self.url(f"/teams/{self.team.id}{path}" if self.team else path)

    def static(self, relative: str) -> str:
        return f"{self.base}/static/{relative}?v={assets.version(relative)}"

    def favicon(self, domain: str | None) -> str | None:
        """The website icon from FAVICON_URL; none in PRIVATE_MODE (no outside requests)."""
        if not domain or self.settings.private_mode:
            return None
        return self.settings.favicon_url.replace("{{domain}}", quote(domain, safe=""))

    def use_team(self, team_id: UUID | None) -> Team | None:
        """Select the team whose pages are shown; only its members (and admins) may look."""
        if team_id is None:
            return None
        team = teams.get(self.conn, team_id)
        if team is None or not can(self.actor, "view", ("team", team)):
            raise PageError(404, "Team not found")
        self.team = hide_access_codes(self.actor, team)
        return team

    def default_password(self) -> bool:
        """Whether the logged-in user still has the installation's default password (the page
        then reminds them to change it, as the docs ask)."""
        if self.user is None:
            return False
        hashed = users.password_hash(self.conn, self.user.id)
        return bool(hashed) and passwords.is_default(hashed)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        my_teams = (
            hide_access_codes(self.actor, teams.teams_of(self.conn, self.user.id))
            if self.user
            else []
        )
        html = env.get_template(template).render(
            page=self,
            actor=self.actor,
            user=self.user,
            team=self.team,
            my_teams=my_teams,
            settings=self.settings,
            url=self.url,
            scoped=self.scoped,
            static=self.static,
            path=self.request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def render_part(self, template: str, part: str, **context: Any) -> HTMLResponse:
        """The whole page, or only `part` when htmx asks to refresh a panel (search, paging, or
        after a change made through the API)."""
        wants_part = self.request.headers.get("hx-request") and not self.request.headers.get(
            "hx-boosted"
        )
        return self.render(part if wants_part else template, **context)


def logged_in(page: Annotated[Page, Depends()]) -> Page:
    if page.user is None:
        raise LoginRequired()
    return page


def admin_only(page: Annotated[Page, Depends(logged_in)]) -> Page:
    if not page.actor.is_admin:
        raise PageError(403, "Only administrators can see this page.")
    return page


AnyPage = Annotated[Page, Depends()]
UserPage = Annotated[Page, Depends(logged_in)]
AdminPage = Annotated[Page, Depends(admin_only)]


def _error_page(request: Request, status: int, message: str) -> HTMLResponse:
    base = request.app.state.settings.base_path
    html = env.get_template("error.html").render(
        status=status,
        message=message,
        url=lambda path: base + path,
        static=lambda rel: f"{base}/static/{rel}?v={assets.version(rel)}",
    )
    return HTMLResponse(html, status_code=status)


def wants_page(request: Request) -> bool:
    """A browser navigating to an address outside the API and the static files: it should get a
    page, not the API's JSON."""
    path = request.url.path.removeprefix(request.app.state.settings.base_path)
    return (
        request.method in ("GET", "HEAD")
        and not path.startswith(("/api/", "/static/"))
        and path != "/api"
        and "text/html" in request.headers.get("accept", "")
    )


def install_handlers(app: FastAPI) -> None:
    """Install after the API's handlers: an unknown address a browser opens gets the error page."""

    @app.exception_handler(HTTPException)
    async def _unknown(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and wants_page(request):
            return _error_page(request, 404, "Page not found")
        return http_error(exc)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        base = request.app.state.settings.base_path
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = f"{base}/login?next={quote(target, safe='')}"
        if request.headers.get("hx-request"):
            # htmx follows HX-Redirect itself; a 302 would be swapped into the panel.
            return Response(status_code=200, headers={"HX-Redirect": login})
        return RedirectResponse(login, status_code=303)

    @app.exception_handler(PageError)
    async def _error(request: Request, exc: PageError) -> Response:
        return _error_page(request, exc.status, exc.message)
