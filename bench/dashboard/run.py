"""Dashboard read benchmark, in process: the overview's queries answered by the read path as it
runs in the server (visit slices when they can answer) against the same requests answered by
the straightforward queries over Umami's raw tables — the way Umami writes them — on the same
engine, in the same run. Median of N warm runs; the ratio is raw ÷ Katsuo.

usage:
  run.py --data-dir DIR | --database-url URL  [--website UUID] [--end '2026-05-01 00:00:00+00']
         [--ranges 30,90] [--runs 5] [--rebuild] [--json out.json] [--clickhouse-url URL
         [--clickhouse-only]]

With --clickhouse-url (the same dataset copied there by gen_dataset.py --clickhouse-url) each
request is also answered with the events in ClickHouse, in the same run, and its answer must
equal DuckDB's.

The dataset comes from gen_dataset.py. HTTP end-to-end figures (with the 6-way parallel
dashboard load) come from ../shared/bench/read_bench.py against a running server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import datetime

from katsuo.analytics import events as E
from katsuo.analytics import expanded as X
from katsuo.analytics import filters as F
from katsuo.analytics import metrics as M
from katsuo.analytics import sessions as S
from katsuo.analytics import slices
from katsuo.analytics import timeframe as T
from katsuo.analytics import totals as W
from katsuo.analytics import values as V
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.config import Settings
from katsuo.store import migrations
from katsuo.store.database import Database

FILTERS = {
    "none": (),
    "country=US": (F.parse_value("country", "country", "US"),),
    "path=/pricing": (F.parse_value("path", "path", "/pricing"),),
}


def overview(
    website: uuid.UUID, start_us: int, end_us: int, filters: tuple, now_us: int, expanded: bool
):
    """(name, function of a Reader) for each request of the overview page, then (`expanded`)
    the expanded tables a click on a metric card opens; the sums count only the overview's."""
    q = Query(website, start_us, end_us, unit="day", timezone="UTC", filters=F.Filters(filters))
    calls = [
        ("stats", lambda r: W.stats(r, q)),
        ("pageviews_day", lambda r: W.pageviews(r, q)),
        *(
            (f"metrics_{t}", lambda r, t=t: M.metrics(r, q, t, 10, 0))
            for t in ("path", "referrer", "browser", "os", "device", "country", "event")
        ),
        ("events_series", lambda r: E.series(r, q, None)),
        ("weekly", lambda r: S.weekly(r, q)),
        ("active", lambda r: V.active(r, website, now_us)),
    ]
    if expanded:
        calls += [
            (f"expanded_{t}", lambda r, t=t: X.expanded(r, q, t, 10, 0))
            for t in ("path", "referrer", "browser", "country")
        ]
    return calls


def timed(db: Database, fn, use_slices: bool, runs: int) -> tuple[float, object]:
    def once():
        with db.connect() as conn, Reader.of(db, conn, use_slices=use_slices) as reader:
            t0 = time.perf_counter()
            result = fn(reader)
            return (time.perf_counter() - t0) * 1000, result

    _, result = once()  # warm-up
    return statistics.median(once()[0] for _ in range(runs)), result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = ap.add_mutually_exclusive_group(required=True)
    target.add_argument("--data-dir")
    target.add_argument("--database-url")
    ap.add_argument("--website", default="7a1b0000-0000-4000-8000-000000000001")
    ap.add_argument("--end", default="2026-05-01 00:00:00+00")
    ap.add_argument("--ranges", default="30,90")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--filters", default="none,country=US,path=/pricing")
    ap.add_argument("--skip-raw", action="store_true", help="time only Katsuo's path")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the visit slices first")
    ap.add_argument("--skip-expanded", action="store_true", help="time only the 12 requests")
    ap.add_argument("--json")
    ap.add_argument("--clickhouse-url", help="also time the events in ClickHouse (same dataset)")
    ap.add_argument(
        "--clickhouse-only",
        action="store_true",
        help="time only ClickHouse (no DuckDB timing or comparison: e.g. slices not built)",
    )
    a = ap.parse_args(argv)
    if a.clickhouse_only and not a.clickhouse_url:
        ap.error("--clickhouse-only needs --clickhouse-url")
    env = {"APP_SECRET": "bench"}
    env.update({"KATSUO_DATA_DIR": a.data_dir} if a.data_dir else {"DATABASE_URL": a.database_url})
    db = Database(Settings.from_env(env, load_dotenv=False))
    migrations.migrate(db)
    clickhouse = None
    if a.clickhouse_url:
        ch_env = {**env, "CLICKHOUSE_URL": a.clickhouse_url}
        clickhouse = Database(Settings.from_env(ch_env, load_dotenv=False))
        # As the server's start does: an outdated rollup is rebuilt before anything is timed.
        migrations.migrate(clickhouse)
    with db.connect() as conn:
        built = slices.is_built(conn)
    if a.rebuild or (not built and not a.clickhouse_only):
        t0 = time.perf_counter()
        rows = slices.rebuild(db)
        print(f"visit slices rebuilt: {rows} rows in {time.perf_counter() - t0:.1f} s", flush=True)
    website = uuid.UUID(a.website)
    end_us = T.to_us(datetime.fromisoformat(a.end))
    results: dict = {"engine": db.kind, "runs": a.runs, "ranges": {}}
    print(
        f"engine {db.kind}, median of {a.runs} warm runs (ms); ratio = raw / Katsuo"
        + (
            "; clickhouse: the events in ClickHouse, ratio = clickhouse / Katsuo"
            if clickhouse
            else ""
        ),
        flush=True,
    )
    for days in (int(d) for d in a.ranges.split(",")):
        start_us = end_us - days * T.US_PER_DAY
        for filter_name in a.filters.split(","):
            key = f"{days}d {filter_name}"
            rows = results["ranges"][key] = {}
            total_katsuo = total_raw = total_ch = 0.0
            requests = overview(
                website, start_us, end_us, FILTERS[filter_name], end_us, not a.skip_expanded
            )
            for name, fn in requests:
                counted = not name.startswith("expanded_")
                if a.clickhouse_only:
                    ch_ms, _ = timed(clickhouse, fn, False, a.runs)
                    total_ch += ch_ms if counted else 0
                    rows[name] = {"clickhouse_ms": round(ch_ms, 1)}
                    print(f"{key:22} {name:18} clickhouse {ch_ms:8.1f}", flush=True)
                    continue
                katsuo_ms, katsuo_result = timed(db, fn, True, a.runs)
                raw_ms, raw_result = (None, None) if a.skip_raw else timed(db, fn, False, a.runs)
                if raw_result is not None and raw_result != katsuo_result:
                    raise SystemExit(f"{key} {name}: Katsuo's answer differs from the raw query's")
                ch_ms = None
                if clickhouse is not None:
                    ch_ms, ch_result = timed(clickhouse, fn, False, a.runs)
                    if ch_result != katsuo_result:
                        raise SystemExit(f"{key} {name}: ClickHouse's answer differs from DuckDB's")
                if counted:
                    total_katsuo += katsuo_ms
                    total_raw += raw_ms or 0
                    total_ch += ch_ms or 0
                rows[name] = {
                    "katsuo_ms": round(katsuo_ms, 1),
                    "raw_ms": raw_ms and round(raw_ms, 1),
                    "clickhouse_ms": ch_ms and round(ch_ms, 1),
                }
                ratio = f"{raw_ms / katsuo_ms:7.1f}x" if raw_ms else ""
                raw_text = f"{raw_ms:9.1f}" if raw_ms else ""
                ch_text = f"  clickhouse {ch_ms:8.1f} {ch_ms / katsuo_ms:6.1f}x" if ch_ms else ""
                print(
                    f"{key:22} {name:18} katsuo {katsuo_ms:8.1f}  raw {raw_text:>9} {ratio}{ch_text}",
                    flush=True,
                )
            rows["sum"] = {
                "katsuo_ms": round(total_katsuo, 1),
                "raw_ms": round(total_raw, 1) or None,
                "clickhouse_ms": round(total_ch, 1) or None,
            }
            ch_text = f"  clickhouse {total_ch:8.1f}" if clickhouse is not None else ""
            print(  # the 12 overview requests one after another
                f"{key:22} {'overview sum':18} katsuo {total_katsuo:8.1f}  raw {total_raw:9.1f}"
                f"{ch_text}",
                flush=True,
            )
    if a.json:
        with open(a.json, "w") as out:
            json.dump(results, out, indent=1)
    if clickhouse is not None:
        clickhouse.close()
    db.close()


if __name__ == "__main__":
    main()
