"""The collect pipeline without HTTP: how fast one process can take hits when nothing else costs.

`python -m bench.ingest.pipeline [duckdb|postgresql] [hits]` starts Katsuo's services in this
process (a throw-away data directory or PostgreSQL database), creates a website, and feeds
`Collector.send` bodies and headers drawn like send.lua's (its User-Agents, paths and referrers,
50,000 visitors, ~10 % custom events with data), on uvloop as the server runs:

- `prepare`: validation and enrichment alone, one hit after another (thread CPU per hit), first
  for mostly new visitors, then for the same hits again (returning visitors);
- `send`: prepare and the writer (journal or commit, then the store), 64 hits in flight, until
  the store holds them all: hits/s, process CPU per hit and the event-loop thread's CPU per hit.

Compare its `send` rate with run.sh's no-op route: /api/send over HTTP cannot be faster than
this, because HTTP only adds to the event loop's work.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import sys
import tempfile
import time

import uvloop

from bench.ingest.run import HERE, VISITORS, cpu_seconds, postgres_database
from katsuo.config import Settings
from katsuo.services import Services
from katsuo.store import migrations
from katsuo.store.repositories import websites

IN_FLIGHT = 64


def lua_strings(name: str) -> list[str]:
    """The strings of send.lua's `local NAME = { ... }` table, so both loads draw from one list."""
    source = (HERE / "send.lua").read_text()
    table = re.search(rf"local {name} = \{{(.*?)\n?\}}", source, re.DOTALL).group(1)
    return re.findall(r'"([^"]*)"', table)


def make_hits(website: str, count: int) -> list[tuple[dict, dict]]:
    uas, paths, refs = lua_strings("uas"), lua_strings("paths"), lua_strings("refs")
    rng = random.Random(1)
    hits = []
    for _ in range(count):
        visitor = rng.randint(1, VISITORS)
        payload = {
            "website": website,
            "hostname": "example.com",
            "url": rng.choice(paths),
            "referrer": rng.choice(refs),
            "language": "en-US",
            "screen": "1920x1080",
            "title": "Example page",
        }
        if rng.random() < 0.10:
            payload.update(name="cta-click", data={"plan": "pro", "value": rng.randint(1, 500)})
        first = 1 + visitor * 7919 % 222  # send.lua's ip_for: a public-looking IPv4 per visitor
        if first in (10, 100, 127, 169, 172, 192):
            first += 1
        address = f"{first}.{visitor * 104729 % 256}.{visitor * 1299709 % 256}.{1 + visitor % 254}"
        user_agent = uas[visitor % len(uas)].replace("%d", str(100 + visitor // len(uas) % 25))
        hits.append(
            (
                {"type": "event", "payload": payload},
                {"user-agent": user_agent, "x-forwarded-for": address},
            )
        )
    return hits


async def prepare_only(services: Services, hits: list) -> float:
    started = time.thread_time()
    for body, headers in hits:
        await services.collector.prepare(body, headers)
    return (time.thread_time() - started) / len(hits) * 1e6


async def send_all(services: Services, hits: list) -> tuple[float, float, float]:
    collector, slots = services.collector, asyncio.Semaphore(IN_FLIGHT)

    async def one(body, headers):
        async with slots:
            status, answer = await collector.send(body, headers)
            if status != 200:
                raise SystemExit(f"a hit was refused: {status} {answer}")

    wall, cpu, loop_cpu = time.perf_counter(), cpu_seconds(os.getpid()), time.thread_time()
    await asyncio.gather(*(one(body, headers) for body, headers in hits))
    await asyncio.to_thread(services.writer.sync)  # the store holds them all
    wall, cpu = time.perf_counter() - wall, cpu_seconds(os.getpid()) - cpu
    loop_cpu = time.thread_time() - loop_cpu
    return len(hits) / wall, cpu / len(hits) * 1e6, loop_cpu / len(hits) * 1e6


async def measure(services: Services, website: str, count: int) -> None:
    hits = make_hits(website, count)
    half = hits[: count // 2]
    print(
        f"prepare, mostly new visitors   {await prepare_only(services, half):8.1f} us/hit",
        flush=True,
    )
    print(
        f"prepare, the same hits again   {await prepare_only(services, half):8.1f} us/hit",
        flush=True,
    )
    for label in ("send, mostly new visitors", "send, returning visitors"):
        rate, cpu, loop_cpu = await send_all(services, hits)
        print(
            f"{label:<30} {rate:8.0f} hits/s  {cpu:6.1f} CPU us/hit  {loop_cpu:6.1f} loop us/hit",
            flush=True,
        )


def main() -> None:
    engine = sys.argv[1] if len(sys.argv) > 1 else "duckdb"
    count = sys.argv[2] if len(sys.argv) > 2 else "40000"
    if engine not in ("duckdb", "postgresql") or not count.isdigit() or int(count) < 2:
        raise SystemExit("usage: python -m bench.ingest.pipeline [duckdb|postgresql] [hits >= 2]")
    count = int(count)
    env = {
        **os.environ,
        "APP_SECRET": "bench",
        "TZ": "UTC",
        "KATSUO_DATA_DIR": tempfile.mkdtemp(prefix="katsuo-pipeline-"),
    }
    drop = None
    if engine == "postgresql":
        env["DATABASE_URL"], drop = postgres_database()
    services = Services.start(Settings.from_env(env))
    try:
        with services.db.begin() as conn:
            website = websites.create(
                conn,
                name="Bench",
                domain="example.com",
                created_by=migrations.DEFAULT_ADMIN_ID,
                user_id=migrations.DEFAULT_ADMIN_ID,
                team_id=None,
            )
        print(
            f"engine={engine} hits={count} in_flight={IN_FLIGHT} load_before={os.getloadavg()[0]:.2f}"
        )
        uvloop.run(measure(services, str(website.id), count))
    finally:
        services.close()
        if drop:
            drop()
        shutil.rmtree(env["KATSUO_DATA_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
