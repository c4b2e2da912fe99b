"""The application: routers, middleware, error handlers and the lifespan of the services."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from katsuo import __version__
from katsuo.api import auth, collect, events, handlers, me, realtime, sessions, stats, system, users, websites
from katsuo.config import Settings
from katsuo.middleware import HeadersMiddleware
from katsuo.services import Services

ROUTERS = [
    system.router, auth.router, me.router, users.router, websites.router,
    stats.router, events.router, sessions.router, realtime.router,
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
    )
    app.state.settings = settings
    # The collect routes first: the hot path should not walk the API's route table.
    app.router.routes[:0] = collect.routes(settings)
    for router in ROUTERS:
        app.include_router(router, prefix=prefix)
    handlers.install(app)
    app.add_middleware(HeadersMiddleware, settings=settings)
    return app
