"""The upkeep of ClickHouse's pointer rows (docs/clickhouse.md#pointer-rows): rounds in the server
process (`Keeper`) that keep a row per website and whole hour (pointer_entries.py says what it
holds).

A pair's previous occurrence lies in earlier inserts, which a materialized view does not see,
so the rows are kept by rounds. Each round compares, per website and hour, the number of events
and the sum of a hash of their ids in website_event with the figures each row records: its own
hour's, and all earlier hours' together. An hour that is over and whose row is missing or
differs (a new hour, another writer's late rows, a delete) is computed again from the events,
with every later hour (their earlier-hours figures changed too), a day of hours per insert, in
order. Rows are a function of the events alone, so two processes keeping them write the same
rows; the table keeps the last one written per hour, and a row written from an older view of
the events differs from the events' figures and is replaced next round.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa

from katsuo.analytics import timeframe as T
from katsuo.analytics.pointer_entries import hour_entries
from katsuo.background import BackgroundJob
from katsuo.store.database import Database
from katsuo.store.engines import clickhouse_io as io
from katsuo.store.engines import clickhouse_layout as layout

log = logging.getLogger("katsuo.pointers")

# Seconds between rounds, at least (Keeper).
ROUND_SECONDS = 10
# An hour is kept once it has been over this long: writers' batches of its events are in.
SETTLE_US = 2 * T.US_PER_MINUTE
CHUNK_HOURS = 24  # hours computed and written at a time
_MASK = (1 << 64) - 1
POINTER_COLUMNS = tuple(name for name, _ in layout.KATSUO_POINTERS.columns)
Figures = dict[int, tuple[int, int]]  # hour (seconds) -> (events, fingerprint)


def _figures(conn: sa.Connection, before_s: int) -> dict[object, Figures]:
    """Per website and hour before `before_s`: website_event's events and id-hash sum."""
    found: dict = defaultdict(dict)
    rows = conn.exec_driver_sql(
        "SELECT website_id, toUInt32(toStartOfHour(toDateTime(created_at, 'UTC'))) AS h, "
        "count(), sum(cityHash64(event_id)) FROM website_event "
        f"WHERE created_at < toDateTime({before_s}, 'UTC') GROUP BY website_id, h"
    )
    for website_id, hour, events, fingerprint in rows:
        found[website_id][hour] = (events, fingerprint)
    return found


def _recorded(conn: sa.Connection) -> dict[object, dict[int, tuple]]:
    """Per website and hour: the figures its kept row records (the last one written)."""
    found: dict = defaultdict(dict)
    rows = conn.exec_driver_sql(
        "SELECT website_id, toUInt32(hour), (events, fingerprint, events_before, "
        f"fingerprint_before) FROM `{layout.KATSUO_POINTERS.name}` FINAL"
    )
    for website_id, hour, figures in rows:
        found[website_id][hour] = tuple(figures)
    return found


def stale_hours(figures: Figures, recorded: dict[int, tuple], last_hour: int) -> list[tuple]:
    """(hour, events, fingerprint, events before, fingerprint before) of each hour up to
    `last_hour` whose row is missing or records other figures, in order. Hours without events
    need no row, except one that records figures of earlier events, and `last_hour`'s, which
    says how far the rows are kept."""
    hours = sorted({*figures, *recorded, last_hour})
    events_before = fingerprint_before = 0
    stale = []
    for hour in hours:
        if hour > last_hour:
            break
        events, fingerprint = figures.get(hour, (0, 0))
        wanted = (events, fingerprint, events_before, fingerprint_before)
        needed = events or hour in recorded or hour == last_hour
        if needed and recorded.get(hour) != wanted:
            stale.append((hour, *wanted))
        events_before += events
        fingerprint_before = (fingerprint_before + fingerprint) & _MASK
    return stale


def _write(conn: sa.Connection, website_id, stale: list[tuple]) -> None:
    """The rows of `stale` hours (stale_hours' tuples), computed from the events, in one
    insert."""
    entries = hour_entries(conn, website_id, [hour for hour, *_ in stale])
    at = datetime.fromtimestamp
    rows = []
    for hour, events, fingerprint, events_before, fingerprint_before in stale:
        found = entries[hour]
        rows.append(
            (
                website_id,
                at(hour, UTC),
                [kind for kind, *_ in found],
                [value for _, value, *_ in found],
                [at(start, UTC) for _, _, start, _, _ in found],
                [at(prev, UTC) for _, _, _, prev, _ in found],
                [amount for *_, amount in found],
                events,
                fingerprint,
                events_before,
                fingerprint_before,
            )
        )
    io.insert_rows(conn, layout.KATSUO_POINTERS.name, POINTER_COLUMNS, rows)


def keep(db: Database, now_us: int | None = None, stop: threading.Event | None = None) -> int:
    """One round: bring every website's rows up to the last hour over; returns the number of
    hours written. `stop` ends the round after the day of hours being written."""
    now_us = T.to_us(datetime.now(UTC)) if now_us is None else now_us
    end_s = (now_us - SETTLE_US) // T.US_PER_HOUR * 3600  # hours before this are over
    written = 0
    with db.events.connect() as conn:
        figures = _figures(conn, end_s)
        recorded = _recorded(conn)
        for website_id in sorted({*figures, *recorded}, key=str):
            stale = stale_hours(
                figures.get(website_id, {}), recorded.get(website_id, {}), end_s - 3600
            )
            # A day at a time, in order: the events read (the day's sessions, their whole
            # history) stay bounded, and the rows kept stay contiguous from the first hour.
            for first in range(0, len(stale), CHUNK_HOURS):
                if stop is not None and stop.is_set():
                    return written
                _write(conn, website_id, stale[first : first + CHUNK_HOURS])
                written += len(stale[first : first + CHUNK_HOURS])
    return written


class Keeper(BackgroundJob):
    """The rounds in the server process, every `interval` seconds or longer after a long round."""

    thread_name = "katsuo-pointers"

    def __init__(self, db: Database, interval: float):
        super().__init__(interval)
        self.db = db

    def _run(self) -> None:
        wait = 0.0
        while not self._stop.wait(wait):
            started = time.monotonic()
            try:
                written = keep(self.db, stop=self._stop)
                if written:
                    log.info("pointer rows: %d hours written", written)
            except Exception:  # an outage or a conflict: the next round tries again
                log.warning("pointer rows: the round failed, retrying", exc_info=True)
            wait = self.pace(started)
