"""The application: routers, middleware, error handlers and the lifespan of the services."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette._utils import get_route_path

from katsuo import __version__, web
from katsuo.api import (
    admin,
    auth,
    collect,
    events,
    handlers,
    insights,
    links,
    me,
    realtime,
    reports,
    segments,
    sessions,
    shares,
    stats,
    system,
    teams,
    users,
    websites,
)
from katsuo.config import Settings
from katsuo.middleware import HeadersMiddleware
from katsuo.services import Services
from katsuo.web.tracker import route as tracker_route

ROUTERS = [
    system.router,
    auth.router,
    me.router,
    users.router,
    websites.router,
    teams.router,
    admin.router,
    links.links_router,
    links.pixels_router,
    reports.router,
    insights.router,
    segments.router,
    shares.router,
    stats.router,
    events.router,
    sessions.router,
    realtime.router,
]


class KatsuoApp(FastAPI):
    """FastAPI, with the collect endpoints' POSTs answered ahead of its middleware stack.

    Every hit paid for the stack (error, telemetry and body-limit middleware, the router's walk,
    the request wrapper): ~45 µs of the event loop per hit, nearly as much as all else the
    benchmark's no-op route costs (~60 µs). The collect handlers need none of it: they read
    their own body with a limit, turn every client error into its response, and only need the
    CORS headers, which they still get here. Any other request, and any other method on these
    paths (a preflight, a 405), goes through the whole app as before."""

    hot_paths: dict | None = None
    hot_app = None

    def serve_ahead(self, paths: dict, app) -> None:
        """Answer POSTs to `paths` (path → endpoint) with the ASGI `app`, which finds the
        endpoint in scope["endpoint"]."""
        self.hot_paths, self.hot_app = paths, app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and self.hot_paths:
            # The path as Starlette's router matches it (without the ASGI root_path).
            endpoint = self.hot_paths.get(get_route_path(scope))
            if endpoint is not None:
                scope["app"] = self
                scope["endpoint"] = endpoint
                await self.hot_app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. `services` may be passed in (tests share one across apps); otherwise they
    are started with the app and closed when it stops."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owned = services is None
        app.state.services = services or Services.start(settings)
        try:
            yield
        finally:
            if owned:
                app.state.services.close()

    prefix = settings.base_path
    app = KatsuoApp(
        title="Katsuo",
        version=__version__,
        lifespan=lifespan,
        # /api/docs is a page of katsuo.web, on the local copy of Swagger UI.
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{prefix}/api/openapi.json",
        # No OpenTelemetry: Katsuo sends nothing anywhere, and with telemetry on FastAPI asks
        # the global providers on every request (~4 % of the collect path's CPU).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    # The collect routes first: the hot path should not walk the API's route table.
    collect_routes = collect.routes(settings)
    app.router.routes[:0] = collect_routes
    for router in ROUTERS:
        app.include_router(router, prefix=prefix)
    app.include_router(tracker_route.router(settings), prefix=prefix)
    handlers.install(app)
    # After the API's handlers: the pages answer an unknown address with a page of their own.
    web.install(app, prefix)
    app.add_middleware(HeadersMiddleware, settings=settings)
    app.serve_ahead(
        collect.hot_paths(collect_routes),
        HeadersMiddleware(handlers.UnexpectedErrors(collect.answer_hot), settings),
    )
    return app
