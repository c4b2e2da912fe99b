"""Revenue report benchmark: the report's wall time on a website with many events, with no
revenue at all or with revenue on a share of its sessions, on each engine in the same run.

    .venv/bin/python -m bench.revenue.run [--events 10000] [--paying 0.0] [--runs 3]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
        [--engines duckdb,postgresql,clickhouse] [--analyze]

Each engine gets a fresh store (a temporary DuckDB folder, a throw-away PostgreSQL database, an
embedded ClickHouse folder), the same generated events (one website, sessions
of five events over seven days, every paying session's last event carrying revenue), and runs
the report as `POST /api/reports/revenue` does. The answers must be equal on every engine; the
baseline of the same run is the cheapest query that reads the whole window (distinct sessions).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.dashboard.reports import iso, timed
from katsuo.analytics import reports
from katsuo.analytics.query import Target
from katsuo.analytics.reports import params as report_params
from katsuo.analytics.runner import Reader
from katsuo.config import Settings
from katsuo.store import migrations, schema
from katsuo.store.database import Database

START = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 7
EVENTS_PER_SESSION = 5


def _rows(events: int, paying: float, website: uuid.UUID, seed: int = 7):
    rng = random.Random(seed)
    sessions, website_events, revenue = [], [], []
    for _ in range(max(1, events // EVENTS_PER_SESSION)):
        session_id = uuid.UUID(int=rng.getrandbits(128))
        visit_id = uuid.UUID(int=rng.getrandbits(128))
        at = START + timedelta(seconds=rng.randrange(DAYS * 86400 - 3600))
        sessions.append(
            (session_id, website, "chrome", "Linux", "desktop", rng.choice(["US", "DE", "FR"]), at)
        )
        referrer = rng.choice([None, "google.com", "github.com", "news.ycombinator.com"])
        for step in range(EVENTS_PER_SESSION):
            event_id = uuid.UUID(int=rng.getrandbits(128))
            created = at + timedelta(seconds=30 * step)
            last = step == EVENTS_PER_SESSION - 1
            pays = last and rng.random() < paying
            website_events.append(
                (
                    event_id,
                    website,
                    session_id,
                    visit_id,
                    created,
                    f"/page/{step}",
                    referrer if step == 0 else None,
                    "example.com",
                    2 if pays else 1,
                    "checkout" if pays else None,
                )
            )
            if pays:
                revenue.append(
                    (
                        uuid.UUID(int=rng.getrandbits(128)),
                        website,
                        session_id,
                        event_id,
                        "checkout",
                        "USD",
                        round(rng.uniform(1, 200), 2),
                        created,
                    )
                )
    return sessions, website_events, revenue


def _load(db: Database, events: int, paying: float, analyze: bool) -> uuid.UUID:
    website = uuid.uuid4()
    with db.begin() as conn:
        conn.execute(
            schema.website.insert().values(website_id=website, name="bench", domain="example.com")
        )
    sessions, website_events, revenue = _rows(events, paying, website)
    store = db.events
    with store.begin() as conn:
        store.engines.insert_rows(
            conn,
            "session",
            ("session_id", "website_id", "browser", "os", "device", "country", "created_at"),
            sessions,
        )
        store.engines.insert_rows(
            conn,
            "website_event",
            (
                "event_id",
                "website_id",
                "session_id",
                "visit_id",
                "created_at",
                "url_path",
                "referrer_domain",
                "hostname",
                "event_type",
                "event_name",
            ),
            website_events,
        )
        if revenue:
            store.engines.insert_rows(
                conn,
                "revenue",
                (
                    "revenue_id",
                    "website_id",
                    "session_id",
                    "event_id",
                    "event_name",
                    "currency",
                    "revenue",
                    "created_at",
                ),
                revenue,
            )
    if analyze and store.kind == "postgresql":
        with store.connect() as conn:
            store.engines.analyze(conn, ["session", "website_event", "revenue"])
    return website


def _measure(
    settings: Settings, events: int, paying: float, runs: int, analyze: bool
) -> tuple[dict, object]:
    db = Database(settings)
    migrations.migrate(db)
    try:
        website = _load(db, events, paying, analyze)
        end = START + timedelta(days=DAYS)
        parameters = {"startDate": iso(START), "endDate": iso(end), "currency": "USD"}

        def report():
            with db.begin() as conn:
                query, values = report_params.parse(
                    "revenue",
                    "revenue",
                    {},
                    parameters,
                    Target(website),
                    conn,
                    now_us=int(end.timestamp() * 1e6),
                )
                with Reader.of(db, conn, use_slices=False) as reader:
                    return reports.RUNNERS["revenue"](reader, query, values)

        def baseline():
            e = schema.website_event
            with db.events.connect() as conn:
                return conn.execute(
                    sa.select(sa.func.count(sa.distinct(e.c.session_id))).where(
                        e.c.website_id == website, e.c.created_at.between(START, end)
                    )
                ).scalar()

        report_ms, answer = timed(report, runs)
        baseline_ms, _ = timed(baseline, runs)
        return {"report": report_ms, "baseline": baseline_ms}, answer
    finally:
        db.close()


def _settings(engine: str, postgres: str, folder: str) -> Settings:
    env = {
        "APP_SECRET": "bench",
        "KATSUO_DATA_DIR": f"{folder}/{engine}",
        "KATSUO_SLICE_SETTLE_SECONDS": "0",
    }
    if engine == "postgresql":
        name = f"katsuo_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(
            postgres.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        env["DATABASE_URL"] = postgres.rsplit("/", 1)[0] + f"/{name}"
    if engine == "clickhouse":
        env["CLICKHOUSE_URL"] = f"chdb://{folder}/chdb?database=bench"
    return Settings.from_env(env)


def _drop(postgres: str, settings: Settings) -> None:
    if settings.engine != "postgresql":
        return
    admin = sa.create_engine(
        postgres.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(
            f'DROP DATABASE IF EXISTS "{settings.database_url.rsplit("/", 1)[1]}" WITH (FORCE)'
        )
    admin.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument(
        "--paying", type=float, default=0.0, help="share of sessions with revenue (0 to 1)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="ANALYZE the PostgreSQL tables after loading (a live server's autovacuum does it sometime)",
    )
    parser.add_argument(
        "--engines",
        default="duckdb,postgresql",
        help="comma-separated: duckdb, postgresql, clickhouse (embedded, chdb)",
    )
    args = parser.parse_args(argv)
    engines = args.engines.split(",")
    answers = {}
    print(
        f"{args.events} events, {args.paying:.0%} of sessions paying; median (min–max) of {args.runs} runs, ms"
    )
    with tempfile.TemporaryDirectory() as folder:
        for engine in engines:
            settings = _settings(engine, args.postgres, folder)
            try:
                times, answers[engine] = _measure(
                    settings, args.events, args.paying, args.runs, args.analyze
                )
            finally:
                _drop(args.postgres, settings)
            report, baseline = times["report"], times["baseline"]
            print(
                f"{engine:>10}: revenue {statistics.median(report):9.1f} ({min(report):.1f}–{max(report):.1f})"
                f"   baseline {statistics.median(baseline):7.1f}   ×{statistics.median(report) / max(statistics.median(baseline), 0.001):.0f}"
            )
    first = next(iter(answers.values()))
    different = [engine for engine, answer in answers.items() if answer != first]
    print("answers equal on every engine" if not different else f"ANSWERS DIFFER: {different}")


if __name__ == "__main__":
    main()
