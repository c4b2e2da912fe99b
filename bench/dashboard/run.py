"""Dashboard read benchmark, in process: the overview's queries answered by the read path as it
runs in the server (visit slices when they can answer) against the same requests answered by
the straightforward queries over Umami's raw tables — the way Umami writes them — on the same
engine, in the same run. Median of N warm runs; the ratio is raw ÷ Katsuo.

usage:
  run.py --data-dir DIR | --database-url URL  [--website UUID] [--end '2026-05-01 00:00:00+00']
         [--ranges 30,90] [--runs 5] [--rebuild] [--json out.json]

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
from katsuo.analytics import filters as F
from katsuo.analytics import sessions as S
from katsuo.analytics import slices
from katsuo.analytics import timeframe as T
from katsuo.analytics import website_stats as W
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


def overview(website: uuid.UUID, start_us: int, end_us: int, filters: tuple, now_us: int):
    """(name, function of a Reader) for each request of the overview page."""
    q = Query(website, start_us, end_us, unit="day", timezone="UTC", filters=F.Filters(filters))
    calls = [
        ("stats", lambda r: W.stats(r, q)),
        ("pageviews_day", lambda r: W.pageviews(r, q)),
        *(
            (f"metrics_{t}", lambda r, t=t: W.metrics(r, q, t, 10, 0))
            for t in ("path", "referrer", "browser", "os", "device", "country", "event")
        ),
        ("events_series", lambda r: E.series(r, q, None)),
        ("weekly", lambda r: S.weekly(r, q)),
        ("active", lambda r: W.active(r, website, now_us)),
    ]
    return calls


def timed(db: Database, fn, use_slices: bool, runs: int) -> tuple[float, object]:
    def once():
        with db.connect() as conn:
            reader = Reader.open(conn, db.kind, use_slices=use_slices)
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
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    env = {"APP_SECRET": "bench"}
    env.update({"KATSUO_DATA_DIR": a.data_dir} if a.data_dir else {"DATABASE_URL": a.database_url})
    db = Database(Settings.from_env(env, load_dotenv=False))
    migrations.migrate(db)
    with db.connect() as conn:
        built = slices.is_built(conn)
    if a.rebuild or not built:
        t0 = time.perf_counter()
        rows = slices.rebuild(db)
        print(f"visit slices rebuilt: {rows} rows in {time.perf_counter() - t0:.1f} s", flush=True)
    website = uuid.UUID(a.website)
    end_us = T.to_us(datetime.fromisoformat(a.end))
    results: dict = {"engine": db.kind, "runs": a.runs, "ranges": {}}
    print(f"engine {db.kind}, median of {a.runs} warm runs (ms); ratio = raw / Katsuo", flush=True)
    for days in (int(d) for d in a.ranges.split(",")):
        start_us = end_us - days * T.US_PER_DAY
        for filter_name in a.filters.split(","):
            key = f"{days}d {filter_name}"
            rows = results["ranges"][key] = {}
            total_katsuo = total_raw = 0.0
            for name, fn in overview(website, start_us, end_us, FILTERS[filter_name], end_us):
                katsuo_ms, katsuo_result = timed(db, fn, True, a.runs)
                raw_ms, raw_result = (None, None) if a.skip_raw else timed(db, fn, False, a.runs)
                if raw_result is not None and raw_result != katsuo_result:
                    raise SystemExit(f"{key} {name}: Katsuo's answer differs from the raw query's")
                total_katsuo += katsuo_ms
                total_raw += raw_ms or 0
                rows[name] = {
                    "katsuo_ms": round(katsuo_ms, 1),
                    "raw_ms": raw_ms and round(raw_ms, 1),
                }
                ratio = f"{raw_ms / katsuo_ms:7.1f}x" if raw_ms else ""
                raw_text = f"{raw_ms:9.1f}" if raw_ms else ""
                print(
                    f"{key:22} {name:18} katsuo {katsuo_ms:8.1f}  raw {raw_text:>9} {ratio}",
                    flush=True,
                )
            rows["sum"] = {
                "katsuo_ms": round(total_katsuo, 1),
                "raw_ms": round(total_raw, 1) or None,
            }
            print(
                f"{key:22} {'sum (sequential)':18} katsuo {total_katsuo:8.1f}  raw {total_raw:9.1f}",
                flush=True,
            )
    if a.json:
        with open(a.json, "w") as out:
            json.dump(results, out, indent=1)
    db.close()


if __name__ == "__main__":
    main()
