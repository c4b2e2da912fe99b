"""The long-lived parts of a running server, built once from the settings and closed at shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from katsuo.analytics.catchup import Maintainer
from katsuo.analytics.pointer_upkeep import ROUND_SECONDS, Keeper
from katsuo.api.admission import Admission
from katsuo.auth.logins import LoginStore
from katsuo.auth.ratelimit import LoginRateLimiter
from katsuo.collect import runtime
from katsuo.collect.collector import Collector
from katsuo.collect.geo import GeoLocator
from katsuo.collect.slugs import SlugCache
from katsuo.collect.websites import WebsiteCache
from katsuo.collect.writer import CLICKHOUSE_APPLY_SECONDS, CLICKHOUSE_BATCH_ROWS, Writer
from katsuo.config import Settings
from katsuo.ops.backup import ControlSocket
from katsuo.ops.retention import RetentionJob
from katsuo.store import engines, ids, migrations
from katsuo.store.database import Database
from katsuo.store.repositories import collected

log = logging.getLogger("katsuo")


@dataclass
class Services:
    settings: Settings
    db: Database
    logins: LoginStore
    login_limiter: LoginRateLimiter
    slices: Maintainer
    redis: object | None = None
    # The write path: `writer` is the one group-committing writer (register derived-table hooks
    # with `services.writer.hooks.append(fn)`); `collector` runs /api/send without HTTP.
    writer: Writer | None = None
    geo: GeoLocator | None = None
    collector: Collector | None = None
    # Links and pixels of /q/<slug> and /p/<slug>: empty it once a change to one committed.
    slugs: SlugCache | None = None
    # How many analytics requests run at once (api/admission.py).
    admission: Admission | None = None
    # The local control path of an embedded database (`katsuo backup` asks it; ops/backup.py).
    control: ControlSocket | None = None
    # The daily deletion of collected data past its retention limit (ops/retention.py).
    retention: RetentionJob | None = None
    # The rounds keeping ClickHouse's pointer rows (analytics/pointer_upkeep.py).
    pointers: Keeper | None = None

    @classmethod
    def start(cls, settings: Settings) -> Services:
        ids.configure(settings.use_uuidv7)
        runtime.tune()  # interpreter settings for the write path under load (once per process)
        stores = [engines.module_for(settings), engines.events_module(settings)]
        admission = Admission.for_pools(
            settings, [m.POOL_SIZE + m.MAX_OVERFLOW for m in stores if m is not None]
        )
        db = Database(settings)
        if not settings.skip_db_check:
            db.check()
        if not settings.skip_db_migration:
            migrations.migrate(db)
        # Deletions of collected data that a previous run could not finish in the events store.
        collected.purge(db)
        redis_client = None
        if settings.redis_url:
            import redis

            redis_client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
            redis_client.ping()
        # Builds the read path's visit slices in the background when missing, then keeps them
        # up to date; queries use the raw tables until they are ready. The writer notes every
        # committed event as pending for them, in the same transaction.
        # With the events in ClickHouse there are no visit slices: it answers from the events.
        events = db.events
        journal = settings.data_dir / "journal" if events.engines.COLLECT_JOURNAL else None
        if db.separate_events:
            slices = Maintainer(db, 0)
            writer = Writer(
                db,
                max_batch_rows=CLICKHOUSE_BATCH_ROWS,
                journal_dir=journal,
                apply_seconds=CLICKHOUSE_APPLY_SECONDS,
                apply_rows=CLICKHOUSE_BATCH_ROWS,
            )
        else:
            slices = Maintainer(db, settings.slice_settle_seconds, settings.slice_audit_seconds)
            writer = Writer(db, hooks=[slices.write_hook], journal_dir=journal)
        if writer.journaled:  # reads wait for the acknowledged hits to be applied
            events.before_connect = writer.sync
        slices.start()
        # ClickHouse's pointer rows (analytics/pointer_upkeep.py), kept by rounds in every process.
        keeper = Keeper(db, ROUND_SECONDS) if db.separate_events else None
        if keeper is not None:
            keeper.start()
        geo = GeoLocator(
            settings.geolite_db_path or None, use_headers=not settings.skip_location_headers
        )
        svc = cls(
            settings=settings,
            db=db,
            logins=LoginStore(settings.secret, redis_client),
            login_limiter=LoginRateLimiter(settings.redis_url),
            slices=slices,
            redis=redis_client,
            writer=writer,
            geo=geo,
            collector=Collector(settings, writer, WebsiteCache(db, redis_client), geo),
            slugs=SlugCache(db),
            admission=admission,
            pointers=keeper,
        )
        svc.retention = RetentionJob(db, on_deleted=writer.forget_sessions)
        svc.retention.start()
        if db.kind == "duckdb":
            svc.control = ControlSocket(svc)
            svc.control.start()
        return svc

    def close(self) -> None:
        if self.control is not None:
            self.control.close()
        if self.retention is not None:
            self.retention.stop()
        # The writer first: whatever was accepted is committed before the database closes.
        if self.writer is not None:
            self.writer.close()
        self.slices.stop()
        if self.pointers is not None:
            self.pointers.stop()
        if self.geo is not None:
            self.geo.close()
        if self.redis is not None:
            self.redis.close()
        self.db.close()
