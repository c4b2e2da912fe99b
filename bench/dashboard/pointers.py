"""The route to the ClickHouse overview goal, measured: distinct sessions counted from
previous-occurrence pointers kept per hour, against the server's own answer.

For each (kind, value, session) that occurs in an hour, one element with the hour of the same
pair's previous occurrence. Summed per (kind, value, hour, previous hour), the distinct sessions
of a value over the whole hours [S, E) are the elements of [S, E) whose previous hour lies before
S, a plain sum (the visit slices' rule on DuckDB and PostgreSQL, analytics/summary.py, at hour
grain). Nothing here is maintained: the table is computed once from website_event, in a scratch
table of the same database, dropped at the end. The server keeps such rows for the metrics by
path, referrer, hostname and title (analytics/pointers.py); this measures the kinds it does not
keep yet (session attributes, visitors) beside path, the one it does (README.md, "Pointer rows
in the server").

Each answer is checked against the server's own, then both are timed in the same run:
the server's request (Python included) and the prototype's statement.

usage:
  pointers.py --data-dir DIR --clickhouse-url chdb:///DIR --end '2026-12-06 02:00:00+00'
              [--days 30] [--website UUID] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import datetime

from katsuo.analytics import metrics as M
from katsuo.analytics import timeframe as T
from katsuo.analytics import totals as W
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.config import Settings
from katsuo.store import migrations
from katsuo.store.database import Database
from katsuo.store.engines import clickhouse_layout as layout

TABLE = "bench_pointer_hourly"
# kind → the value of a view that the kind counts ('' is not counted, as in katsuo_hourly).
KINDS = {
    "view": "'-'",  # every view: its pairs are the sessions themselves (visitors)
    "path": layout.rollup_value("url_path"),
    "referrer": layout.rollup_value("referrer_domain"),
    "country": "toString(country)",
    "browser": "toString(browser)",
}
HOUR = "toStartOfHour(toDateTime(created_at, 'UTC'))"
NONE = "toDateTime(0, 'UTC')"


def build_sql(website: uuid.UUID) -> str:
    kinds = ", ".join(f"'{kind}'" for kind in KINDS)
    values = ", ".join(KINDS.values())
    return f"""
INSERT INTO {TABLE}
SELECT kind, value, hour, prev_hour, count() AS elements
FROM (
  SELECT kind, value, hour,
    lagInFrame(hour, 1, {NONE}) OVER (PARTITION BY kind, value, session_id ORDER BY hour
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS prev_hour
  FROM (
    SELECT kind, value, session_id, {HOUR} AS hour
    FROM website_event ARRAY JOIN [{kinds}] AS kind, [{values}] AS value
    WHERE website_id = '{website}' AND event_type NOT IN (2, 5) AND value != ''
    GROUP BY kind, value, session_id, hour
  )
)
GROUP BY kind, value, hour, prev_hour"""


def _range(start_us: int, end_us: int) -> str:
    first = f"toDateTime({start_us // T.US_PER_SECOND}, 'UTC')"
    end = f"toDateTime({(end_us + 1) // T.US_PER_SECOND}, 'UTC')"
    return f"hour >= {first} AND hour < {end} AND prev_hour < {first}"


def per_value_sql(kind: str, start_us: int, end_us: int, limit: int | None) -> str:
    top = f"ORDER BY y DESC, x LIMIT {limit}" if limit else ""
    return (
        f"SELECT value AS x, sum(elements) AS y FROM {TABLE} "
        f"WHERE kind = '{kind}' AND {_range(start_us, end_us)} GROUP BY x {top}"
    )


def per_day_sql(start_us: int, end_us: int) -> str:
    """Visitors per UTC day: a pair counts in the first hour of the day it occurs in."""
    first = f"toDateTime({start_us // T.US_PER_SECOND}, 'UTC')"
    end = f"toDateTime({(end_us + 1) // T.US_PER_SECOND}, 'UTC')"
    day = "toStartOfDay(hour)"
    return (
        f"SELECT {day} AS d, sum(elements) FROM {TABLE} WHERE kind = 'view' "
        f"AND hour >= {first} AND hour < {end} AND prev_hour < greatest({first}, {day}) "
        "GROUP BY d ORDER BY d"
    )


def with_tail(sql, website: uuid.UUID, start_us: int, end_us: int, tail_us: int) -> dict:
    """Distinct sessions per path as a read would combine them while the last `tail_us` are not
    yet in the table: its sums before, plus each pair of the tail that has no view in the range
    before the tail, found by looking the tail's sessions up in website_event (a literal list,
    which its primary key prunes by; the same lookup through a subquery scanned every granule)."""
    until = end_us + 1 - tail_us
    counts = dict(sql(per_value_sql("path", start_us, until - 1, None)).all())
    views = f"website_id = '{website}' AND event_type NOT IN (2, 5) AND url_path != ''"
    tail = sql(
        f"SELECT DISTINCT url_path, toString(session_id) FROM website_event WHERE {views} "
        f"AND created_at >= {_at(until)} AND created_at <= {_at(end_us)}"
    ).all()
    sessions = ", ".join(sorted({f"'{session}'" for _, session in tail})) or "NULL"
    before = set(
        sql(
            f"SELECT DISTINCT url_path, toString(session_id) FROM website_event WHERE {views} "
            f"AND created_at >= {_at(start_us)} AND created_at < {_at(until)} "
            f"AND session_id IN ({sessions})"
        ).all()
    )
    for path, session in tail:
        if (path, session) not in before:
            counts[path] = counts.get(path, 0) + 1
    return counts


def _at(us: int) -> str:
    return f"fromUnixTimestamp64Micro(toInt64({us}), 'UTC')"


def _median_ms(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--clickhouse-url", required=True)
    ap.add_argument("--website", default="7a1b0000-0000-4000-8000-000000000001")
    ap.add_argument("--end", required=True, help="a whole UTC hour, e.g. '2026-12-06 02:00:00+00'")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args(argv)
    env = {"APP_SECRET": "bench", "KATSUO_DATA_DIR": a.data_dir, "CLICKHOUSE_URL": a.clickhouse_url}
    db = Database(Settings.from_env(env, load_dotenv=False))
    migrations.migrate(db)
    website = uuid.UUID(a.website)
    end_us = T.to_us(datetime.fromisoformat(a.end)) - 1
    start_us = end_us + 1 - a.days * T.US_PER_DAY
    if start_us % T.US_PER_HOUR:
        ap.error("--end must be a whole UTC hour")
    query = Query(website, start_us, end_us, unit="day", timezone="UTC")
    with db.connect() as conn, db.events.connect() as events:
        sql = events.exec_driver_sql
        build(sql, website)

        def server(fn):
            def call():
                with Reader.of(db, conn, use_slices=False) as reader:
                    return fn(reader)

            return call

        def prototype(statement: str):
            return lambda: sql(statement).all()

        def measure(name: str, ours, theirs, same) -> None:
            """Stop unless `same(server's answer, prototype's)`, then time both."""
            if not same(ours and ours(), theirs()):
                raise SystemExit(f"{name}: the prototype's answer differs from the server's")
            ms = _median_ms(ours, a.runs) if ours is not None else None
            pms = _median_ms(theirs, a.runs)
            print(f"{name:30} {f'{ms:.1f}' if ms else '':>10} {pms:13.1f}", flush=True)

        def per_value(full: list[dict]) -> dict:
            return {r["x"]: r["y"] for r in full if r["x"] is not None}

        print(
            f"{'request':30} {'server ms':>10} {'prototype ms':>13}  load {os.getloadavg()[0]:.1f}"
        )
        for kind in ("path", "referrer", "country", "browser"):
            # The answer is checked whole, the request timed as the overview makes it (top 10).
            top10 = server(lambda r, k=kind: M.metrics(r, query, k, 10, 0))
            whole = server(lambda r, k=kind: M.metrics(r, query, k, 10**9, 0))
            if per_value(whole()) != dict(prototype(per_value_sql(kind, start_us, end_us, None))()):
                raise SystemExit(f"{kind}: the prototype's answer differs from the server's")
            measure(
                f"metrics by {kind}",
                top10,
                prototype(per_value_sql(kind, start_us, end_us, 10)),
                lambda ours, theirs: [(r["x"], r["y"]) for r in ours] == list(theirs),
            )
        paths = per_value(server(lambda r: M.metrics(r, query, "path", 10**9, 0))())
        for hours in (1, 3):
            measure(
                f"metrics by path, {hours} h not in it",
                None,
                lambda h=hours: with_tail(sql, website, start_us, end_us, h * T.US_PER_HOUR),
                lambda _, theirs: theirs == paths,
            )
        measure(
            "visitors per day (+ views)",
            server(lambda r: W.series(r, query)),
            prototype(per_day_sql(start_us, end_us)),
            lambda ours, theirs: [s["y"] for s in ours[1] if s["y"]] == [n for _, n in theirs],
        )
        visitors = server(lambda r: W.stats(r, query))()["visitors"]
        measure(
            "visitors (the server: in /stats)",
            None,
            prototype(per_value_sql("view", start_us, end_us, None)),
            lambda _, theirs: theirs == [("-", visitors)],
        )
        sql(f"DROP TABLE {TABLE}")
    db.close()


def build(sql, website: uuid.UUID) -> None:
    sql(f"DROP TABLE IF EXISTS {TABLE}")
    sql(
        f"CREATE TABLE {TABLE} (kind LowCardinality(String), value String, "
        "hour DateTime('UTC'), prev_hour DateTime('UTC'), elements UInt64) "
        "ENGINE = SummingMergeTree ORDER BY (kind, hour, value, prev_hour)"
    )
    t0 = time.perf_counter()
    sql(build_sql(website))
    sql(f"OPTIMIZE TABLE {TABLE} FINAL")
    rows, elements = sql(f"SELECT count(), sum(elements) FROM {TABLE}").one()
    print(
        f"built in {time.perf_counter() - t0:.1f} s: {rows:,} rows for {elements:,} "
        "(kind, value, session, hour) elements",
        flush=True,
    )


if __name__ == "__main__":
    main()
