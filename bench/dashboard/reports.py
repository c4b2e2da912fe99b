"""Insights report benchmark: funnel (3 steps), journey (5 steps), retention (one month),
attribution and breakdown (2 fields) over a dataset loaded by gen_dataset.py, on DuckDB or
PostgreSQL, for 30- and 90-day windows ending at the dataset's end.

    .venv/bin/python bench/dashboard/reports.py --data-dir DIR | --database-url URL
        [--website UUID] [--end '2026-05-01 00:00:00+00'] [--runs 5] [--only funnel,journey]
        [--clickhouse-url URL]

With --clickhouse-url each report also runs with the events in ClickHouse (the dataset copied
there by gen_dataset.py), in the same run; its answer must equal the first engine's.

Each report runs in process the way `POST /api/reports/<type>` runs it (envelope parsing, the
Query, the report's statements, the JSON shape), once to warm up and then --runs times; the
median, min and max wall times are printed. The baseline of the same run is the cheapest query
that reads the whole window — distinct sessions of the website's events in it — and every
report is also shown as a multiple of it. Goal: each report ≤ 1 s on DuckDB (Umami 3.1 with
PostgreSQL on this machine, 10 M events / 30 days: funnel with 4 steps 4.1 s, retention 17.1 s;
`http_run.py` times those two requests over HTTP exactly as the reference did).

Run it as a module from the repository root (`python -m bench.dashboard.reports …`) or as a
script; the dataset comes from gen_dataset.py.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timedelta
from uuid import UUID

import sqlalchemy as sa

from katsuo.analytics import reports
from katsuo.analytics.query import Target, now_us
from katsuo.analytics.reports import params as report_params
from katsuo.analytics.runner import Reader
from katsuo.config import Settings
from katsuo.store import migrations, schema
from katsuo.store.database import Database

WEBSITE = "7a1b0000-0000-4000-8000-000000000001"

# (name, report type, its own parameters); the bench dataset's paths and event names.
REPORTS = [
    (
        "funnel",
        "funnel",
        {
            "window": 60,
            "steps": [
                {"type": "path", "value": "/"},
                {"type": "path", "value": "/pricing"},
                {"type": "path", "value": "/signup"},
            ],
        },
    ),
    ("journey", "journey", {"steps": 5}),
    ("retention", "retention", {"timezone": "America/Los_Angeles"}),
    ("attribution", "attribution", {"model": "last-click", "type": "path", "step": "/signup"}),
    ("breakdown", "breakdown", {"fields": ["os", "country"]}),
    ("breakdown path+referrer", "breakdown", {"fields": ["path", "referrer"]}),
]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def timed(action, runs: int) -> tuple[list[float], object]:
    result = action()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = ap.add_mutually_exclusive_group(required=True)
    target.add_argument("--data-dir")
    target.add_argument("--database-url")
    ap.add_argument("--website", default=WEBSITE)
    ap.add_argument("--end", default="2026-05-01 00:00:00+00")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default=None)
    ap.add_argument("--clickhouse-url", help="also run each report with the events in ClickHouse")
    a = ap.parse_args(argv)
    env = {"APP_SECRET": "bench", "KATSUO_SLICE_SETTLE_SECONDS": "0"}
    if a.data_dir:
        env["KATSUO_DATA_DIR"] = a.data_dir
    else:
        env["DATABASE_URL"] = a.database_url
    db = Database(Settings.from_env(env, load_dotenv=False))
    clickhouse = None
    if a.clickhouse_url:
        ch_env = {**env, "CLICKHOUSE_URL": a.clickhouse_url}
        clickhouse = Database(Settings.from_env(ch_env, load_dotenv=False))
        # As the server's start does: an outdated rollup is rebuilt before anything is timed.
        migrations.migrate(clickhouse)
    only = set(a.only.split(",")) if a.only else None
    end = datetime.fromisoformat(a.end) - timedelta(milliseconds=1)
    e = schema.website_event
    print(
        f"reports bench on {db.kind}, website {a.website}, {a.runs} runs (ms: median / min / max)"
    )
    try:
        with db.connect() as conn:
            for days in (30, 90):
                start = end - timedelta(days=days) + timedelta(milliseconds=1)
                baseline_stmt = sa.select(sa.func.count(sa.distinct(e.c.session_id))).where(
                    e.c.website_id == UUID(a.website), e.c.created_at.between(start, end)
                )
                base_times, visitors = timed(
                    lambda stmt=baseline_stmt: conn.execute(stmt).scalar_one(), a.runs
                )
                baseline = statistics.median(base_times)
                print(
                    f"{days:>3} d  baseline (distinct sessions, {visitors} of them) {baseline:8.1f}"
                )
                for name, report_type, parameters in REPORTS:
                    if only and name not in only:
                        continue
                    if report_type == "retention" and days != 30:
                        continue  # the retention insight is one month
                    body = {"startDate": iso(start), "endDate": iso(end), **parameters}

                    def run(report_type=report_type, body=body, store=db):
                        query, values = report_params.parse(
                            report_type,
                            report_type,
                            {},
                            body,
                            Target(UUID(a.website)),
                            conn,
                            now_us=now_us(),
                        )
                        with Reader.of(store, conn) as reader:
                            return reports.RUNNERS[report_type](reader, query, values)

                    times, result = timed(run, a.runs)
                    ch_text = ""
                    if clickhouse is not None:
                        ch_times, ch_result = timed(lambda run=run: run(store=clickhouse), a.runs)
                        if ch_result != result:
                            raise SystemExit(
                                f"{name}: ClickHouse's answer differs from {db.kind}'s"
                            )
                        ch_median = statistics.median(ch_times)
                        ch_text = f"   clickhouse {ch_median:8.1f} ({ch_median / statistics.median(times):4.1f}x)"
                    median = statistics.median(times)
                    size = (
                        len(result)
                        if isinstance(result, list)
                        else len(result.get("referrer", result))
                    )
                    print(
                        f"{days:>3} d  {name:<24} {median:8.1f} / {min(times):8.1f} / "
                        f"{max(times):8.1f}   ×{median / baseline:5.1f} baseline   ({size} rows)"
                        f"{ch_text}",
                        flush=True,
                    )
    finally:
        if clickhouse is not None:
            clickhouse.close()
        db.close()


if __name__ == "__main__":
    main()
