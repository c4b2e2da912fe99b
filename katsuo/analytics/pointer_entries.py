"""The entries of ClickHouse's pointer rows (docs/clickhouse.md#pointer-rows), computed from
website_event: what a row of katsuo_pointer_hourly holds. pointers.py reads them, and
pointer_upkeep.py keeps them.

A row holds one website's whole UTC hour: entries (kind, value, start hour, previous hour,
amount). An entry of the row of hour H counts over a range that starts on an hour S and holds H
when its previous hour lies before S and its start hour does not: previous < S <= start.
- A value's sessions (KINDS): per (value, session) pair of the hour's views, 1 keyed by the hour
  itself and the pair's previous hour (1970: none). Each pair's first hour in range is the one
  whose previous hour lies before S: the visit slices' rule (summary.py) at hour grain.
- Visitors, and the weekly grid's sessions (WEEKLY): the same per session of the hour's views,
  with the previous hour of any view, or of a view at the same UTC hour of the week.
- The visit totals (VISIT_TOTALS): a visit's part of a range is that of its hours in range, j to
  k. Each hour i of a visit adds, for every earlier or same hour j of the visit, an entry keyed
  by j and j's previous hour: what hour i adds to the part of hours j..i. Only the j that is the
  range's first counts (previous < S <= start), and its amounts add up to the part of j..k.

A row depends on the events of its hour and earlier ones, never on later ones.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.store import schema
from katsuo.store.engines import clickhouse_layout as layout

# The columns whose metric counts distinct sessions of views, each view with its own row's
# value: the rollup columns but custom events' names (counted as events), and the session
# attributes but the language (its metric keys several values as one), region and city (keyed
# with the country). A change here or to what the entries are needs a new
# layout.KATSUO_POINTERS version.
KINDS = (
    *(c for c in layout.ROLLUP_COLUMNS if c != "event_name"),
    *(a for a in layout.SESSION_ATTRIBUTES if a not in ("language", "region", "city")),
)

# The totals of /stats (registry.METRICS): visitors from the sessions' hours, the rest from the
# visits' hours. A metric registered beyond these is answered by the rollups.
VISIT_TOTALS = ("pageviews", "visits", "bounces", "totaltime")
TOTALS = ("visitors", *VISIT_TOTALS)
# The weekly grid's entries: per session of the hour's views, keyed by the session's previous
# hour with views at the same UTC hour of the week.
WEEKLY = "weekly"
_WEEK_S = 7 * 24 * 3600
NO_HOUR = 0  # the previous hour of a pair seen for the first time (1970-01-01)

stored = sa.table(
    layout.WEBSITE_EVENT.name,
    *(sa.column(name) for name in ("website_id", "session_id", "visit_id", "event_type")),
    *(sa.column(name, sa.String) for name in KINDS),
    sa.column("created_at", schema.Timestamp),
)


def at(us: int) -> sa.ColumnElement:
    """A time to compare website_event's `created_at` with as it is stored (seconds in an
    adopted Umami database): the bare column lets its primary key prune."""
    return sa.func.toDateTime64(Q.at(us), 6, "UTC", type_=schema.Timestamp)


def hour_of(created_at: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.toUInt32(sa.func.toStartOfHour(sa.func.toDateTime(created_at, "UTC")))


def _value_entries(conn: sa.Connection, website_id, hours: list[int]) -> dict[int, list[tuple]]:
    """Per hour of `hours`: the entries (kind, value, start hour, previous hour, amount) of
    KINDS, the pairs of its views by previous hour over every earlier event of their
    sessions."""
    last = max(hours) + 3600
    kinds = ", ".join(f"'{kind}'" for kind in KINDS)
    values = ", ".join(layout.rollup_value(kind) for kind in KINDS)
    hour = "toUInt32(toStartOfHour(toDateTime(created_at, 'UTC')))"
    views = (
        f"website_id = %(w)s AND event_type NOT IN {tuple(Q.VIEW_TYPES_EXCLUDED)} "
        f"AND created_at < toDateTime({last}, 'UTC')"
    )
    sessions = (
        f"AND session_id IN (SELECT session_id FROM website_event WHERE {views} "
        f"AND {hour} IN %(hours)s)"
    )
    statement = f"""
SELECT hour, kind, value, prev, count()
FROM (
  SELECT kind, value, hour,
    lagInFrame(hour, 1, toUInt32({NO_HOUR})) OVER (PARTITION BY kind, value, session_id
      ORDER BY hour ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS prev
  FROM (
    SELECT kind, value, session_id, {hour} AS hour
    FROM website_event ARRAY JOIN [{kinds}] AS kind, [{values}] AS value
    WHERE {views} {sessions} AND value != ''
    GROUP BY kind, value, session_id, hour
  )
)
WHERE hour IN %(hours)s
GROUP BY hour, kind, value, prev"""
    found: dict[int, list[tuple]] = {h: [] for h in hours}
    for hour, kind, value, prev, pairs in conn.exec_driver_sql(
        statement, {"w": website_id, "hours": tuple(hours)}
    ):
        found[hour].append((kind, value, hour, prev, pairs))
    return found


def visit_hours(*where: sa.ColumnElement) -> sa.Select:
    """Per session, visit and UTC hour (seconds) of website_event's rows matching `where`:
    their number `hits` and their first and last µs."""
    us = sa.func.toUnixTimestamp64Micro(sa.func.toDateTime64(stored.c.created_at, 6, "UTC"))
    hour = hour_of(stored.c.created_at)
    return (
        sa.select(
            stored.c.session_id,
            stored.c.visit_id,
            hour.label("hour"),
            sa.func.count().label("hits"),
            sa.func.min(us).label("first_us"),
            sa.func.max(us).label("last_us"),
        )
        .where(*where)
        .group_by(stored.c.session_id, stored.c.visit_id, hour)
    )


def _part(hits: int, first_us: int, last_us: int) -> tuple[int, ...]:
    """A visit's part of VISIT_TOTALS from its views in a range, as registry.METRICS count it:
    the views, the visit, a bounce when it has one view, whole seconds from first to last."""
    return (hits, 1, int(hits == 1), (last_us - first_us) // T.US_PER_SECOND)


_NO_PART = (0, 0, 0, 0)


def view_entries(rows, wanted) -> dict[int, Counter]:
    """Per hour that `wanted` accepts: the entries of TOTALS and WEEKLY, (kind, start hour,
    previous hour) -> amount, from `visit_hours` rows (session, visit, hour, hits, first µs, last
    µs) of its sessions' views up to that hour. A visit's hours are those of its id, whatever
    the session (as the rollups count visits)."""
    session_hours: dict = defaultdict(set)
    per_visit: dict = defaultdict(dict)
    for session_id, visit_id, hour, hits, first_us, last_us in rows:
        session_hours[session_id].add(hour)
        hours = per_visit[visit_id]
        if hour in hours:  # the same visit id in two sessions
            before, first, last = hours[hour]
            hits, first_us, last_us = before + hits, min(first, first_us), max(last, last_us)
        hours[hour] = (hits, first_us, last_us)
    found: dict[int, Counter] = defaultdict(Counter)
    for hours in session_hours.values():
        prev, same_hour_of_week = NO_HOUR, {}
        for hour in sorted(hours):
            if wanted(hour):
                found[hour]["visitors", hour, prev] += 1
                found[hour][WEEKLY, hour, same_hour_of_week.get(hour % _WEEK_S, NO_HOUR)] += 1
            prev = same_hour_of_week[hour % _WEEK_S] = hour
    for hours in per_visit.values():
        _visit_entries(sorted(hours.items()), wanted, found)
    return found


def _visit_entries(parts: list[tuple], wanted, found: dict[int, Counter]) -> None:
    """One visit's entries: for each of its hours i that `wanted` accepts and each of its hours
    j up to i, keyed by j and the hour before j, what hour i adds to the part of hours j..i."""
    before = [0]  # views of the hours before each
    for _, (hits, _, _) in parts:
        before.append(before[-1] + hits)
    for i, (hour, (_, _, last)) in enumerate(parts):
        if not wanted(hour):
            continue
        for j in range(i + 1):
            start, (_, first, _) = parts[j]
            prev = parts[j - 1][0] if j else NO_HOUR
            now = _part(before[i + 1] - before[j], first, last)
            earlier = _part(before[i] - before[j], first, parts[i - 1][1][2]) if j < i else _NO_PART
            for kind, amount, was in zip(VISIT_TOTALS, now, earlier, strict=True):
                if amount != was:
                    found[hour][kind, start, prev] += amount - was


def _view_entries(conn: sa.Connection, website_id, hours: list[int]) -> dict[int, list]:
    """Per hour of `hours`: the entries of TOTALS and WEEKLY, over every earlier view of its
    sessions."""
    views = [
        stored.c.website_id == website_id,
        stored.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
        stored.c.created_at < at((max(hours) + 3600) * T.US_PER_SECOND),
    ]
    sessions = sa.select(stored.c.session_id).where(*views, hour_of(stored.c.created_at).in_(hours))
    rows = conn.execute(visit_hours(*views, stored.c.session_id.in_(sessions)))
    wanted = set(hours)
    entries = view_entries(rows, lambda hour: hour in wanted)
    return {
        hour: [(kind, "", start, prev, amount) for (kind, start, prev), amount in found.items()]
        for hour, found in entries.items()
    }


def hour_entries(conn: sa.Connection, website_id, hours: list[int]) -> dict[int, list[tuple]]:
    """Per hour of `hours`: every entry of its row, (kind, value, start hour, previous hour,
    amount), over every earlier event of its sessions."""
    values = _value_entries(conn, website_id, hours)
    views = _view_entries(conn, website_id, hours)
    return {hour: values[hour] + views.get(hour, []) for hour in hours}
