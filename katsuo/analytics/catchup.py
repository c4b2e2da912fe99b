"""The catch-up: the visit slices follow Umami's tables whoever writes them.

Katsuo's own writer notes each event it commits as pending (slices.py). Anything else that writes
website_event — Umami running beside Katsuo, a second Katsuo process, a restore, SQL by hand — is
found by comparison: per website and UTC hour, the number of events and the sum of a hash of
their ids, over website_event and over what the slices reflect (katsuo_slice_count plus the
pending events). An hour that differs is repaired: the slices of every session with an event in
it (before or after) are recomputed from the events, and the hour's figures set to the events'
own, in one transaction per run of hours. The recent hours are compared every round (cheap: the
engines prune website_event by time); the whole history at start and then every
KATSUO_SLICE_AUDIT_SECONDS, which catches rows with old timestamps and deletions.

No object is added to Umami's tables (no trigger, no index). Only website_event and session feed
the slices; event_data, session_data and revenue are always read as they are.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa

from katsuo.analytics import slices
from katsuo.analytics import timeframe as T
from katsuo.background import BackgroundJob
from katsuo.store import schema
from katsuo.store.database import Database

log = logging.getLogger("katsuo.slices")

# How far back every round compares: the hours that current writers (Umami beside Katsuo) fill.
RECENT_US = 3 * T.US_PER_HOUR
# Events per repair transaction (a run of hours; an hour is never split).
REPAIR_EVENTS = 200_000

Figures = dict[tuple, tuple[int, int]]  # (website_id, hour_us) -> (events, fingerprint)


def audit(db: Database, since_us: int | None = None) -> int:
    """Compare the events with what the slices reflect since `since_us` (None: all history) and
    repair each hour that differs. Returns the number of hours repaired; 0 also when another
    upkeep step is running (this round is skipped)."""
    with slices.upkeep(db, wait=False) as mine:
        return _audit(db, since_us) if mine else 0


def _figures(rows) -> Figures:
    return {
        (website, hour): (events, int(fingerprint)) for website, hour, events, fingerprint in rows
    }


def _audit(db: Database, since_us: int | None) -> int:
    started = time.monotonic()
    w, c, p, stale = schema.website_event, slices.count_t, slices.pending_t, slices.stale_t
    if since_us is not None:
        since_us = since_us // T.US_PER_HOUR * T.US_PER_HOUR
    recent = since_us is not None
    with db.connect() as conn:
        db.engines.snapshot(conn)
        with conn.begin():
            if not slices.is_built(conn):
                return 0
            marked = conn.execute(sa.select(stale.c.website_id, stale.c.parts)).all()
            base = _figures(
                conn.execute(
                    slices.event_counts(
                        db, w.c.created_at >= T.from_us(since_us) if recent else sa.true()
                    )
                )
            )
            known = _figures(
                conn.execute(
                    sa.select(c.c.website_id, c.c.hour_us, c.c.events, c.c.fingerprint).where(
                        c.c.hour_us >= since_us if recent else sa.true()
                    )
                )
            )
            pending = conn.execute(
                slices.pending_counts(db, p.c.created_us >= since_us if recent else sa.true())
            )
            for website, hour, events, fingerprint in pending:
                n, f = known.get((website, hour), (0, 0))
                known[(website, hour)] = (n + events, f + int(fingerprint))
    rebuilding = {website for website, parts in marked if parts is not None}
    hours: dict = defaultdict(list)  # website -> every hour with events on either side
    differ: dict = defaultdict(set)
    for key in base.keys() | known.keys():
        website, hour = key
        if website in rebuilding:
            continue
        hours[website].append(hour)
        if base.get(key) != known.get(key):
            differ[website].add(hour)
    for website, wrong in differ.items():
        _repair_website(db, website, sorted(hours[website]), wrong, base, known)
    if not recent:
        # A repair stopped midway left its website marked; every hour agrees now.
        left = [website for website, parts in marked if parts is None and website not in differ]
        if left:
            with db.begin() as conn:
                conn.execute(stale.delete().where(stale.c.website_id.in_(left)))
    repaired = sum(len(wrong) for wrong in differ.values())
    if repaired:
        log.info(
            "visit slices: %d hours of %d websites differed from website_event (written or "
            "deleted by another writer); repaired in %.2f s",
            repaired,
            len(differ),
            time.monotonic() - started,
        )
    return repaired


def _runs(ordered: list[int], wrong: set[int], base: Figures, known: Figures, website) -> list:
    """The hours to repair as [start, end) ranges: consecutive wrong hours (hours without events
    between them do not count), each range up to REPAIR_EVENTS events."""
    runs: list[list[int]] = []
    size = 0
    previous_wrong = False
    for hour in ordered:
        if hour not in wrong:
            previous_wrong = False
            continue
        events = max(base.get((website, hour), (0, 0))[0], known.get((website, hour), (0, 0))[0])
        if previous_wrong and size + events <= REPAIR_EVENTS:
            runs[-1][1] = hour + T.US_PER_HOUR
            size += events
        else:
            runs.append([hour, hour + T.US_PER_HOUR])
            size = events
        previous_wrong = True
    return runs


def _repair_website(db: Database, website, ordered, wrong, base: Figures, known: Figures) -> None:
    runs = _runs(ordered, wrong, base, known, website)
    stale = slices.stale_t
    if len(runs) > 1:  # not one transaction: its queries read the raw tables meanwhile
        with db.begin() as conn:
            conn.execute(stale.delete().where(stale.c.website_id == website))
            db.engines.insert_rows(conn, stale.name, slices.STALE_COLUMNS, [(website, None, 0)])
    for start, end in runs:
        _repair(db, website, start, end)
    if len(runs) > 1:
        with db.begin() as conn:
            conn.execute(stale.delete().where(stale.c.website_id == website))


def _repair(db: Database, website_id, start_us: int, end_us: int) -> None:
    """Recompute the slices of every session with an event, a slice or a pending event of the
    website in [start, end), and set those hours' figures to the events' own: one transaction."""
    dialect = db.engines.DIALECT
    w, s, p, span = schema.website_event, slices.slice_t, slices.pending_t, slices.span_t
    in_range = sa.and_(
        w.c.website_id == website_id,
        w.c.created_at >= T.from_us(start_us),
        w.c.created_at < T.from_us(end_us),
    )
    pending_in_range = sa.and_(
        p.c.website_id == website_id, p.c.created_us >= start_us, p.c.created_us < end_us
    )
    with db.connect() as conn:
        db.engines.snapshot(conn)
        with conn.begin():
            found = sa.union(
                sa.select(w.c.session_id).where(in_range),
                sa.select(s.c.session_id).where(
                    s.c.website_id == website_id, s.c.first_us < end_us, s.c.last_us >= start_us
                ),
                sa.select(p.c.session_id).where(pending_in_range),
            )
            sessions = conn.execute(found).scalars().all()
            theirs = slices.of_sessions(sessions)
            conn.execute(s.delete().where(theirs(s.c.website_id, s.c.session_id)))
            select = slices.slices_select(dialect, theirs, few=True)
            conn.execute(slices.insert_slices(dialect, select, ordered=False))
            conn.execute(span.delete().where(theirs(span.c.website_id, span.c.session_id)))
            conn.execute(
                span.insert().from_select(slices.SPAN_COLUMNS, slices.spans_from_events(db, theirs))
            )
            c = slices.count_t
            conn.execute(
                c.delete().where(
                    c.c.website_id == website_id, c.c.hour_us >= start_us, c.c.hour_us < end_us
                )
            )
            slices.add_counts(conn, db, slices.event_counts(db, in_range))
            # Their pending events outside the range are in the slices now: count them in.
            theirs_pending = theirs(p.c.website_id, p.c.session_id)
            outside = sa.and_(theirs_pending, sa.not_(pending_in_range))
            slices.add_counts(conn, db, slices.pending_counts(db, outside))
            conn.execute(p.delete().where(sa.or_(theirs_pending, pending_in_range)))


class Maintainer(BackgroundJob):
    """Background upkeep in the server process: finish or start a rebuild, then every round fold
    in the writer's pending events and compare the recent hours, and the whole history every
    `audit_interval` seconds (with PostgreSQL and several server processes, whichever gets the
    lock does each step). A stop lets the step in progress finish: a rebuild stops after its
    current part and resumes at the next start."""

    thread_name = "katsuo-slices"

    def __init__(self, db: Database, interval: float, audit_interval: float = 600):
        super().__init__(interval)
        self.db = db
        self.audit_interval = audit_interval

    def write_hook(self, conn: sa.Connection, batch) -> None:
        """The writer's hook: the batch's events become pending, in the writer's transaction."""
        rows = slices.pending_rows(batch.events)
        if rows:
            self.db.engines.insert_rows(conn, slices.pending_t.name, slices.PENDING_COLUMNS, rows)

    def _run(self) -> None:
        try:
            slices.resume(self.db, self._stop)
            if not self._stop.is_set():
                audit(self.db)
        except Exception:
            log.exception("visit slices: the rebuild or check at start failed; will retry")
        audited = time.monotonic()
        wait = self.interval
        while not self._stop.wait(wait):
            started = time.monotonic()
            try:
                slices.settle(self.db)
                if started - audited >= self.audit_interval:
                    slices.resume(self.db, self._stop)
                    audit(self.db)
                    audited = started
                else:
                    audit(self.db, T.to_us(datetime.now(UTC)) - RECENT_US)
            except Exception:  # a conflict or an outage: try again next round
                log.warning("visit slices: upkeep failed, retrying", exc_info=True)
            # Upkeep costs time in proportion to the data it scans; reads add the pending
            # events meanwhile, so answers never lag behind a long round.
            wait = self.pace(started)
