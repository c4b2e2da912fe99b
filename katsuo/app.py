"""The application: routers, middleware, error handlers and the lifespan of the services."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

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
    app = FastAPI(
        title="Katsuo",
        version=__version__,
        lifespan=lifespan,
        docs_url=f"{prefix}/api/docs",
        redoc_url=None,
        openapi_url=f"{prefix}/api/openapi.json",
        # No OpenTelemetry: Katsuo sends nothing anywhere, and with telemetry on FastAPI asks
        # the global providers on every request (~4 % of the collect path's CPU).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    # The collect routes first: the hot path should not walk the API's route table.
    app.router.routes[:0] = collect.routes(settings)
    for router in ROUTERS:
        app.include_router(router, prefix=prefix)
    app.include_router(tracker_route.router(settings), prefix=prefix)
    web.install(app, prefix)
    handlers.install(app)
    app.add_middleware(HeadersMiddleware, settings=settings)
    return app
