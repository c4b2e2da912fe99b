"""Reading and writing Katsuo's schema on ClickHouse's layout (clickhouse_layout.py).

Reads: a compile hook renders each of Katsuo's collected-data tables (store/schema.py) as the
`katsuo_v_*` view that presents it, so every query is still written once against schema.py.
Writes: rows in Katsuo's shape go to Umami's tables in Umami's — the session's attributes on
each event row, '' for a missing text, event data with its event's session, path and name.
Deletes: Katsuo's conditions run against the Umami tables (and katsuo_session) that hold the rows.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import ClassVar
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import ColumnClause, _anonymous_label
from sqlalchemy.sql.selectable import CTE, Join
from sqlalchemy.sql.visitors import InternalTraversal

from katsuo.store import schema
from katsuo.store.engines import clickhouse_layout as layout

_MAPPED = {name: schema.metadata.tables[name] for name in layout.VIEWS}


@compiles(sa.Table, "clickhousedb")
def _table(element, compiler, **kw):
    view = layout.VIEWS.get(element.name)
    if view is None or _MAPPED.get(element.name) is not element or not kw.get("asfrom"):
        return compiler.visit_table(element, **kw)
    quoted = compiler.preparer.quote(view)
    enclosing = kw.get("enclosing_alias")
    if enclosing is not None and enclosing.element is element:
        return quoted  # the alias adds its own name
    return f"{quoted} AS {compiler.preparer.quote(element.name)}"


# The session's columns every event row carries (Umami's layout), so that a session joined to its
# events is read from the event rows instead: Umami's ClickHouse queries do the same. Katsuo
# writes a session's attributes on each of its rows; where another writer stored rows of one
# session with different attributes, each event counts with its own row's, as in Umami.
_ON_EVENT_ROWS = frozenset((*layout.SESSION_ATTRIBUTES, "distinct_id", "session_id", "website_id"))


class _RowColumn(ColumnClause):
    """A session column read from the row of the event it was joined to (`from_name`)."""

    inherit_cache = True
    _traverse_internals: ClassVar = [
        *ColumnClause._traverse_internals,
        ("from_name", InternalTraversal.dp_string),
    ]

    def __init__(self, from_name: str, column: ColumnClause) -> None:
        super().__init__(column.name, column.type)
        self.from_name = from_name

    @property
    def _constructor(self):
        return ColumnClause  # a subquery's column of it is a plain column of that subquery


@compiles(_RowColumn)
def _row_column_text(element, compiler, **kw):
    return f"{element.from_name}.{element.name}"  # str() of a statement, in messages


@compiles(_RowColumn, "clickhousedb")
def _row_column(element, compiler, **kw):
    # ClickHouse names the result column of `t.browser` `browser`, as the session's was named.
    quote = compiler.preparer.quote
    return f"{quote(element.from_name)}.{quote(element.name)}"


def _named(source: sa.FromClause, table: sa.Table) -> str | None:
    """The name `source` has in SQL when it is `table` or a named alias of it."""
    if source is table:
        return table.name
    if isinstance(source, sa.Alias) and source.element is table:
        name = source.name
        return None if isinstance(name, _anonymous_label) else name
    return None


def _event_side(join: Join) -> str | None:
    """The name of the events' FROM in `join` when it is the inner join of the session on its
    events (`s.session_id = e.session_id AND s.website_id = e.website_id`)."""
    session = join.right
    clauses = getattr(join.onclause, "clauses", ())
    if join.isouter or _named(session, schema.session) is None or len(clauses) != 2:
        return None
    events = set()
    for clause, name in zip(clauses, ("session_id", "website_id"), strict=True):
        sides = (getattr(clause, "left", None), getattr(clause, "right", None))
        if getattr(clause, "operator", None) is not operators.eq:
            return None
        mine = [c for c in sides if isinstance(c, sa.Column) and c.table is session]
        other = [c for c in sides if isinstance(c, sa.Column) and c.table is not session]
        if len(mine) != 1 or len(other) != 1 or mine[0].name != name or other[0].name != name:
            return None
        events.add((_named(other[0].table, schema.website_event), other[0].table))
    if len(events) != 1:
        return None
    ((name, _),) = events
    return name


def attributes_on_rows(stmt: sa.Select) -> sa.Select:
    """`stmt` with each session joined to its events read from the event rows (no join)."""
    # A session table (or alias) is elided only where it is joined once, to its events, and
    # read nowhere else: the same object used in two scopes keeps both joins.
    joined: dict[sa.FromClause, list[str | None]] = {}
    plain: set[sa.FromClause] = set()
    for element in visitors.iterate(stmt):
        if isinstance(element, CTE):
            return stmt  # a CTE would be copied once per reference: left as it is
        if isinstance(element, Join) and _named(element.right, schema.session) is not None:
            joined.setdefault(element.right, []).append(_event_side(element))
        elif isinstance(element, sa.Select):
            # What it selects from outside any join: its explicit FROMs, and the tables its
            # columns name that no explicit FROM covers.
            explicit = element._from_obj
            covered = {f for source in explicit for f in source._from_objects}
            plain.update(explicit)
            plain.update(f for f in element.columns_clause_froms if f not in covered)
    elided = {
        session: names[0]
        for session, names in joined.items()
        if len(names) == 1 and names[0] is not None and session not in plain
    }
    if not elided:
        return stmt
    for element in visitors.iterate(stmt):
        if (
            isinstance(element, ColumnClause)
            and element.table in elided
            and element.name not in _ON_EVENT_ROWS
        ):
            elided.pop(element.table)  # a column only the session has: keep that join
    if not elided:
        return stmt

    def replace(element):
        if isinstance(element, Join) and element.right in elided:
            return visitors.replacement_traverse(element.left, {}, replace)
        if isinstance(element, ColumnClause) and element.table in elided:
            return _RowColumn(elided[element.table], element)
        return None

    return visitors.replacement_traverse(stmt, {}, replace)


@compiles(sa.Select, "clickhousedb")
def _select(element, compiler, **kw):
    return compiler.visit_select(attributes_on_rows(element), **kw)


# --- writes --------------------------------------------------------------------------------------

_SESSION_FIELDS = (*layout.SESSION_ATTRIBUTES, "distinct_id")
_NO_SESSION = ("",) * len(_SESSION_FIELDS)
# The most sessions and events remembered per database between a session's (or event's) row and
# the rows that need it (the writer inserts them in this order within one batch).
REMEMBERED = 200_000


class _Recent:
    """A bounded map, oldest entries dropped first."""

    def __init__(self) -> None:
        self.items: OrderedDict[str, tuple] = OrderedDict()
        self.lock = threading.Lock()

    def put(self, key: str, value: tuple) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > REMEMBERED:
                self.items.popitem(last=False)

    def get(self, key: str) -> tuple | None:
        with self.lock:
            return self.items.get(key)

    def drop(self, key: str) -> None:
        with self.lock:
            self.items.pop(key, None)


_recent: weakref.WeakKeyDictionary[sa.Engine, tuple[_Recent, _Recent]] = weakref.WeakKeyDictionary()
_recent_lock = threading.Lock()


def _memory(conn: sa.Connection) -> tuple[_Recent, _Recent]:
    """The sessions' attributes and the events' (session, path, name) this database was given."""
    with _recent_lock:
        found = _recent.get(conn.engine)
        if found is None:
            found = _recent[conn.engine] = (_Recent(), _Recent())
        return found


def forget(engine: sa.Engine) -> None:
    with _recent_lock:
        _recent.pop(engine, None)


def _text(value) -> str:
    return "" if value is None else str(value)


def _lookup(conn: sa.Connection, view: str, columns: str, ids: list[str], key: str) -> dict:
    if not ids:
        return {}
    client = conn.connection.driver_connection.client
    result = client.query(
        f"SELECT toString({key}), {columns} FROM `{view}` WHERE {key} IN %(ids)s",
        {"ids": [UUID(i) for i in ids]},
    )
    return {row[0]: tuple(row[1:]) for row in result.result_rows}


def _sessions(conn: sa.Connection, columns, rows, skip_existing: bool) -> None:
    """Sessions have no table of their own: their attributes wait for their events' rows, and
    katsuo_session derives the session from those. A stored session keeps its attributes."""
    sessions, _ = _memory(conn)
    at = {name: columns.index(name) for name in ("session_id", *_SESSION_FIELDS)}
    ids = [str(row[at["session_id"]]) for row in rows]
    stored = _lookup(conn, "katsuo_v_session", "1", ids, "session_id") if skip_existing else {}
    for session_id, row in zip(ids, rows, strict=True):
        if session_id in stored:
            sessions.drop(session_id)
        else:
            sessions.put(session_id, tuple(_text(row[at[name]]) for name in _SESSION_FIELDS))


def _session_attributes(conn: sa.Connection, ids: list[str]) -> dict[str, tuple]:
    sessions, _ = _memory(conn)
    found = {i: sessions.get(i) for i in set(ids)}
    missing = [i for i, value in found.items() if value is None]
    stored = _lookup(conn, "katsuo_v_session", ", ".join(_SESSION_FIELDS), missing, "session_id")
    for session_id in missing:
        value = tuple(_text(v) for v in stored.get(session_id, _NO_SESSION))
        found[session_id] = value
        sessions.put(session_id, value)
    return found


_EVENT_COLUMNS = [name for name, _ in layout.WEBSITE_EVENT.columns if name != "job_id"]
_TEXT_COLUMNS = {
    name for name, kind in layout.WEBSITE_EVENT.columns if kind in ("String", layout._LOW)
}


def _events(conn: sa.Connection, columns, rows) -> tuple[list[str], list[tuple]]:
    _, events = _memory(conn)
    at = {name: i for i, name in enumerate(columns)}
    attributes = _session_attributes(conn, [str(row[at["session_id"]]) for row in rows])
    names = [c for c in _EVENT_COLUMNS if c in at or c in _SESSION_FIELDS]
    out = []
    for row in rows:
        session = attributes[str(row[at["session_id"]])]
        values = dict(zip(_SESSION_FIELDS, session, strict=True))
        values.update((name, row[i]) for name, i in at.items())
        values = {
            name: (_text(values[name]) if name in _TEXT_COLUMNS else values[name]) for name in names
        }
        out.append(tuple(values[name] for name in names))
        events.put(
            str(values["event_id"]),
            (values["session_id"], values["url_path"], values["event_name"]),
        )
    return names, out


def _event_data(conn: sa.Connection, columns, rows) -> tuple[list[str], list[tuple]]:
    _, events = _memory(conn)
    at = {name: i for i, name in enumerate(columns)}
    ids = {str(row[at["website_event_id"]]) for row in rows}
    known = {i: events.get(i) for i in ids}
    missing = [i for i, value in known.items() if value is None]
    stored = {}
    if missing:
        stored = _lookup(
            conn,
            "katsuo_v_website_event",
            "session_id, url_path, ifNull(event_name, '')",
            missing,
            "event_id",
        )
    names = ["website_id", "session_id", "event_id", "url_path", "event_name"]
    values = ["data_key", "string_value", "number_value", "date_value", "data_type", "created_at"]
    out = []
    for row in rows:
        event_id = str(row[at["website_event_id"]])
        session_id, url_path, event_name = known[event_id] or stored.get(
            event_id, (UUID(int=0), "", "")
        )
        out.append(
            (
                row[at["website_id"]],
                session_id,
                event_id,
                _text(url_path),
                _text(event_name),
                *(row[at[name]] for name in values),
            )
        )
    return names + values, out


def _plain(columns, rows, dropped: str, texts: tuple[str, ...]):
    keep = [i for i, name in enumerate(columns) if name != dropped]
    names = [columns[i] for i in keep]
    out = [tuple(_text(row[i]) if columns[i] in texts else row[i] for i in keep) for row in rows]
    return names, out


def _revenue_by_view(conn: sa.Connection) -> bool:
    """An adopted database keeps Umami's website_revenue_mv, which derives the revenue rows from
    event data whoever writes it: Katsuo then must not write them too."""
    return bool(conn.exec_driver_sql("EXISTS TABLE `website_revenue_mv`").scalar())


def insert_rows(conn: sa.Connection, table: str, columns, rows) -> None:
    """Katsuo's rows of `table` (store/schema.py's columns) into Umami's tables."""
    columns = list(columns)
    if table == "session":
        _sessions(conn, columns, rows, skip_existing=True)
        return
    if table == "website_event":
        target, (names, out) = "website_event", _events(conn, columns, rows)
    elif table == "event_data":
        target, (names, out) = "event_data", _event_data(conn, columns, rows)
    elif table == "session_data":
        target, (names, out) = (
            "session_data",
            _plain(columns, rows, "session_data_id", ("distinct_id",)),
        )
    elif table == "revenue":
        if _revenue_by_view(conn):
            return
        target, (names, out) = "website_revenue", _plain(columns, rows, "revenue_id", ())
    else:
        target, names, out = table, columns, rows
    client = conn.connection.driver_connection.client
    client.insert(target, out, column_names=names)


# --- deletes -------------------------------------------------------------------------------------

# Katsuo's table -> the stored table holding its rows, and Katsuo's column names that differ there.
STORED = {
    "website_event": ("website_event", {}),
    "event_data": ("event_data", {"website_event_id": "event_id"}),
    "session_data": ("session_data", {}),
    "revenue": ("website_revenue", {}),
    "session": ("katsuo_session", {"created_at": "first_at"}),
}


def stored_condition(
    conn: sa.Connection, table: sa.Table, where: sa.ColumnElement, renamed: dict | None = None
) -> str:
    """`where` over Katsuo's `table` as SQL over the table that stores its rows (or whose
    columns are named as in `renamed`)."""
    renamed = STORED[table.name][1] if renamed is None else renamed

    def replace(element):
        if isinstance(element, sa.Column) and element.table is table:
            name = renamed.get(element.name, element.name)
            if isinstance(element.type, sa.DateTime):
                # Seconds in an adopted database and in the hourly rollup: the condition's
                # times (with microseconds) compare with the stored ones made DateTime64.
                name = f"toDateTime64({name}, 6, 'UTC')"
            return sa.literal_column(name, element.type)
        return None

    condition = visitors.replacement_traverse(where, {}, replace)
    return str(condition.compile(conn.engine, compile_kwargs={"literal_binds": True}))


def delete_statements(
    conn: sa.Connection, table: sa.Table, where: sa.ColumnElement, cluster: str
) -> list[tuple[str, str]]:
    """(stored table, condition) of the deletes of Katsuo's `table` rows matching `where`;
    deleting events also deletes Umami's hourly rollup of them when the condition is on website
    and time only. On a cluster the stored tables are each shard's local ones."""
    target = STORED[table.name][0]
    condition = stored_condition(conn, table, where)
    found = [(target, condition)]
    if target == "website_event" and _by_website_and_time(where):
        found.append((layout.STATS_HOURLY.name, condition))
        # Katsuo's rollups lose every hour the condition touches; refill_statements adds back
        # what the events still have of those hours.
        hours = stored_condition(conn, table, where, {"created_at": "hour"})
        found += [(rollup.name, hours) for rollup in layout.ROLLUPS]
        # Pointer rows carry every earlier hour's events in theirs: the websites' rows all go
        # first (while the condition still finds their events), and analytics/pointer_upkeep.py keeps
        # them again from what is left. Rows a round writes in between are of the events before
        # the delete: the next round finds their figures changed and replaces them.
        websites = f"website_id IN (SELECT website_id FROM website_event WHERE {condition})"
        found = [(layout.KATSUO_POINTERS.name, websites), *found]
    elif target == "website_event":
        raise ValueError("events are deleted by website and time only (the rollups follow)")
    return [(f"{name}_local" if cluster else name, condition) for name, condition in found]


def refill_statements(conn: sa.Connection, table: sa.Table, where: sa.ColumnElement) -> list[str]:
    """After deleting Katsuo's `table` rows matching `where`: the INSERTs that give the rollups
    back the rows of the events left in the hours the delete touched."""
    if STORED[table.name][0] != "website_event":
        return []
    hour = {"created_at": layout.HOUR_OF_EVENT}
    touched = stored_condition(conn, table, where, hour)
    return [
        f"INSERT INTO `{rollup.name}` {layout.ROLLUP_SELECTS[rollup.name]('website_event', touched)}"
        for rollup in layout.ROLLUPS
    ]


def _by_website_and_time(where: sa.ColumnElement) -> bool:
    columns = {c.name for c in visitors.iterate(where) if isinstance(c, sa.Column)}
    return columns <= {"website_id", "created_at"}
