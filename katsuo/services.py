"""The long-lived parts of a running server, built once from the settings and closed at shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from katsuo.analytics.slices import Maintainer
from katsuo.auth.logins import LoginStore
from katsuo.auth.ratelimit import LoginRateLimiter
from katsuo.config import Settings
from katsuo.store import ids, migrations
from katsuo.store.database import Database

log = logging.getLogger("katsuo")


@dataclass
class Services:
    settings: Settings
    db: Database
    logins: LoginStore
    login_limiter: LoginRateLimiter
    slices: Maintainer
    redis: object | None = None

    @classmethod
    def start(cls, settings: Settings) -> "Services":
        ids.configure(settings.use_uuidv7)
        db = Database(settings)
        if not settings.skip_db_check:
            db.check()
        if not settings.skip_db_migration:
            migrations.migrate(db)
        redis_client = None
        if settings.redis_url:
            import redis

            redis_client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
            redis_client.ping()
        # Builds the read path's visit slices in the background when missing, then keeps them
        # up to date; queries use the raw tables until they are ready.
        slices = Maintainer(db, settings.slice_settle_seconds)
        slices.start()
        return cls(
            settings=settings,
            db=db,
            logins=LoginStore(settings.secret, redis_client),
            login_limiter=LoginRateLimiter(settings.redis_url),
            slices=slices,
            redis=redis_client,
        )

    def close(self) -> None:
        self.slices.stop()
        if self.redis is not None:
            self.redis.close()
        self.db.close()
