"""Engine differences of the read path, and nothing else.

Every query is built once (`sql.py`, `summary.py`) from SQLAlchemy expressions; where an engine
spells something differently, the builder asks the Dialect: DuckDB, PostgreSQL and ClickHouse.
Each engine module holds its Dialect (`DIALECT`, store/engines/engine.py).
"""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by, distinct_on
from sqlalchemy.dialects.postgresql.ext import DistinctOnClause
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import FrameClause
from sqlalchemy.sql.visitors import InternalTraversal

BigInt = sa.BigInteger()
# Integer division binds like multiplication, so `a - b // c` gets its parentheses.
_MUL = 8


def literal_like(text: str) -> str:
    """`text` as a LIKE pattern matching exactly itself (backslash is every engine's escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Dialect:
    name = "base"
    # Per-session arrays and lambdas over them beat window functions (report plans may ask).
    prefers_arrays = False
    # Each event row carries its session's attributes, so joining the session onto the events
    # costs nothing (store/engines/clickhouse_io.py elides that join); else join it late, onto
    # fewer rows.
    session_on_events = False
    # A CTE read twice is computed twice (ClickHouse inlines it at every reference); such an
    # engine offers each_at_extreme and tuple_item instead.
    inlines_ctes = False

    def epoch_us(self, column: sa.ColumnElement) -> sa.ColumnElement:
        """A timestamptz as integer microseconds since the epoch."""
        raise NotImplementedError

    def combination(self, texts: list[sa.ColumnElement]) -> sa.ColumnElement | None:
        """One key standing for each combination of `texts` (NULL apart from every text), where
        the engine groups millions of rows on it faster than on the texts; else None."""
        return None

    def div(self, a: sa.ColumnElement, b: int) -> sa.ColumnElement:
        """Integer division of a non-negative bigint."""
        raise NotImplementedError

    def regex(self, column: sa.ColumnElement, pattern: str) -> sa.ColumnElement:
        """Case-insensitive regular-expression search (`re` filters)."""
        raise NotImplementedError

    def truncate_local(self, local_us: sa.ColumnElement, unit: str) -> sa.ColumnElement:
        """Start of the calendar month or year containing a wall-clock µs value, in µs."""
        raise NotImplementedError

    def ilike(self, column: sa.ColumnElement, pattern: str) -> sa.ColumnElement:
        # PostgreSQL's LIKE escapes with a backslash by default; make DuckDB do the same.
        return column.ilike(pattern, escape="\\")

    def like(self, column: sa.ColumnElement, pattern: str) -> sa.ColumnElement:
        """Case-sensitive LIKE, backslash escaping."""
        return column.like(pattern, escape="\\")

    def contains(self, column: sa.ColumnElement, text: str) -> sa.ColumnElement:
        """Case-insensitive search for `text` as it is written: its `%`, `_` and backslashes
        are literal characters, not wildcards (Umami leaves them wildcards)."""
        return self.ilike(column, f"%{literal_like(text)}%")

    def equals_ignoring_case(self, column: sa.ColumnElement, text: str) -> sa.ColumnElement:
        return self.ilike(column, literal_like(text))

    def percentile(self, fraction: float, value: sa.ColumnElement) -> sa.ColumnElement:
        """Aggregate: the continuous (interpolated) percentile, PostgreSQL's percentile_cont."""
        return sa.func.percentile_cont(fraction).within_group(value)

    def element(self, array: sa.ColumnElement, index: int) -> sa.ColumnElement:
        """An array's element by 1-based index; -1 is the last one."""
        return array[sa.func.array_length(array, 1) if index == -1 else index]

    def strip_www(self, hostname: sa.ColumnElement) -> sa.ColumnElement:
        """Umami's `regexp_replace(hostname, '^www.', '')` (the dot matches any character)."""
        return sa.func.regexp_replace(hostname, "^www.", "")

    def first_values(
        self, value: sa.ColumnElement, order: sa.ColumnElement, n: int
    ) -> sa.ColumnElement:
        """Aggregate: the list of a group's first `n` values by `order` (1-based, ascending)."""
        raise NotImplementedError

    def first_by(
        self, value: sa.ColumnElement, order: tuple[sa.ColumnElement, ...], where: sa.ColumnElement
    ) -> sa.ColumnElement:
        """Aggregate: `value` (NULL included) of the row with the least `order` among the group's
        rows where `where` holds; `order` must be unique within a group."""
        raise NotImplementedError

    def leading_match(self, text: sa.ColumnElement, pattern: str) -> sa.ColumnElement:
        """The start of `text` that the regular expression `pattern` (anchored with ^) matches."""
        raise NotImplementedError

    def materialized(self, select: sa.Select | sa.CompoundSelect, name: str) -> sa.CTE:
        """A CTE computed once, however many parts of the statement read it."""
        return select.cte(name).prefix_with("MATERIALIZED")

    def first_per(self, select: sa.Select, *keys: sa.ColumnElement) -> sa.Select:
        """Only the first row (by the statement's ORDER BY, which starts with `keys`) of each
        `keys` group: DISTINCT ON."""
        return select.ext(distinct_on(*keys))

    def bit(self, position: sa.ColumnElement) -> sa.ColumnElement:
        """A bigint with only bit `position` (0 … 62) set."""
        return sa.literal(1, BigInt).op("<<", return_type=BigInt)(sa.cast(position, sa.Integer))

    def bit_or(self, bits: sa.ColumnElement) -> sa.ColumnElement:
        """Aggregate: the bitwise OR of a group's bigints."""
        return sa.func.bit_or(bits, type_=BigInt)


class DuckDB(Dialect):
    name = "duckdb"

    def epoch_us(self, column):
        return sa.func.epoch_us(column, type_=BigInt)

    def div(self, a, b):
        return a.op("//", precedence=_MUL, return_type=BigInt)(sa.literal(b, BigInt))

    def regex(self, column, pattern):
        # RE2 syntax on DuckDB, POSIX on PostgreSQL: the common subset behaves the same.
        return sa.func.regexp_matches(column, pattern, "i", type_=sa.Boolean)

    def truncate_local(self, local_us, unit):
        return sa.func.epoch_us(
            sa.func.date_trunc(unit, sa.func.make_timestamp(local_us)), type_=BigInt
        )

    def first_values(self, value, order, n):
        # A bounded top-n per group: far cheaper than ordering whole lists.
        return sa.func.arg_min(value, order, n, type_=sa.ARRAY(value.type))

    def first_by(self, value, order, where):
        # arg_min skips rows whose value is NULL; arg_min_null keeps them.
        return sa.func.arg_min_null(value, sa.tuple_(*order), type_=value.type).filter(where)

    def leading_match(self, text, pattern):
        return sa.func.regexp_extract(text, pattern, type_=sa.String)


class PostgreSQL(Dialect):
    name = "postgresql"

    def epoch_us(self, column):
        return sa.cast(sa.extract("epoch", column) * 1_000_000, BigInt)

    def div(self, a, b):
        return a.op("/", precedence=_MUL, return_type=BigInt)(sa.literal(b, BigInt))

    def regex(self, column, pattern):
        return column.op("~*", return_type=sa.Boolean)(pattern)

    def first_values(self, value, order, n):
        ordered = sa.func.array_agg(aggregate_order_by(value, order), type_=sa.ARRAY(value.type))
        return ordered[1:n]

    def first_by(self, value, order, where):
        values = sa.func.array_agg(aggregate_order_by(value, *order)).filter(where)
        return sa.type_coerce(values, sa.ARRAY(value.type))[1]

    def leading_match(self, text, pattern):
        # substring(text, pattern) returns the match, or its first capturing group.
        return sa.func.substring(text, pattern, type_=sa.String)

    def truncate_local(self, local_us, unit):
        as_utc = sa.func.timezone(
            "UTC", sa.func.to_timestamp(sa.cast(local_us, sa.Numeric) / 1_000_000)
        )
        return self.epoch_us(sa.func.timezone("UTC", sa.func.date_trunc(unit, as_utc)))


class ClickHouse(Dialect):
    name = "clickhouse"
    prefers_arrays = True
    session_on_events = True
    inlines_ctes = True

    def times_where(self, t: sa.ColumnElement, condition: sa.ColumnElement) -> sa.ColumnElement:
        """Aggregate: the group's values of `t` where `condition` holds."""
        return sa.func.groupArrayIf(t, condition, type_=sa.ARRAY(BigInt))

    def times_after(
        self, times: sa.ColumnElement, earlier: sa.ColumnElement, window: int
    ) -> sa.ColumnElement:
        """The `times` with an `earlier` time at or before them, at most `window` before."""
        inner = sa.func.arrayExists(
            sa.literal_column(f"p -> p <= c AND c - p <= {int(window)}"), earlier
        )
        return sa.func.arrayFilter(_Lambda("c", inner), times, type_=sa.ARRAY(BigInt))

    def count_nonempty(self, times: sa.ColumnElement) -> sa.ColumnElement:
        return sa.func.countIf(sa.func.notEmpty(times))

    def each_at_extreme(
        self,
        values: list[sa.ColumnElement],
        order: sa.ColumnElement,
        where: sa.ColumnElement | None,
        greatest: bool,
    ) -> sa.ColumnElement:
        """Aggregate, then one output row per element: the tuple (order, *values) of each of the
        group's rows at its greatest (or least) `order` among the rows where `where` holds (all
        rows when None); a group with no such row gives no row."""
        rows = sa.func.tuple(order, *values)
        found = sa.func.groupArray(rows) if where is None else sa.func.groupArrayIf(rows, where)
        extreme = (sa.func.arrayMax if greatest else sa.func.arrayMin)(
            sa.literal_column("r -> r.1"), found
        )
        return sa.func.arrayJoin(
            sa.func.arrayFilter(_Lambda("r", sa.literal_column("r.1") == extreme), found)
        )

    def tuple_item(
        self, row: sa.ColumnElement, index: int, type_: sa.TypeEngine
    ) -> sa.ColumnElement:
        """A tuple's element by 1-based index."""
        return sa.func.tupleElement(row, index, type_=type_)

    def epoch_us(self, column):
        return sa.func.toUnixTimestamp64Micro(column, type_=BigInt)

    def combination(self, texts):
        # Grouping 9 M (path, referrer, visit) rows: 1.6 s on this hash, 3.5 s on the texts,
        # 6.3 s on the texts as Nullable columns; hashing a Nullable directly is as slow. A
        # collision (two combinations, one key) is detected by the breakdown, which then
        # counts on the texts.
        return sa.func.cityHash64(*_non_null(texts), type_=BigInt)

    def div(self, a, b):
        return sa.func.intDiv(a, sa.literal(b, BigInt), type_=BigInt)

    def regex(self, column, pattern):
        # RE2, as on DuckDB; `(?i)` makes it case-insensitive.
        return sa.func.match(column, "(?i)" + pattern, type_=sa.Boolean)

    def ilike(self, column, pattern):
        # Backslash is LIKE's escape character in ClickHouse already (no ESCAPE clause).
        return sa.func.ilike(column, pattern, type_=sa.Boolean)

    def like(self, column, pattern):
        return sa.func.like(column, pattern, type_=sa.Boolean)

    def percentile(self, fraction, value):
        # The inclusive exact quantile interpolates as percentile_cont does.
        return _Parametric("quantileExactInclusive", fraction, value)

    def element(self, array, index):
        return sa.func.arrayElement(array, index, type_=array.type.item_type)

    def strip_www(self, hostname):
        return sa.func.replaceRegexpOne(hostname, "^www.", "")

    def truncate_local(self, local_us, unit):
        start = {"month": sa.func.toStartOfMonth, "year": sa.func.toStartOfYear}[unit]
        day = start(sa.func.fromUnixTimestamp64Micro(local_us, "UTC"))
        return sa.func.toUnixTimestamp64Micro(sa.func.toDateTime64(day, 6, "UTC"), type_=BigInt)

    def bit(self, position):
        return sa.func.bitShiftLeft(sa.func.toInt64(1), position, type_=BigInt)

    def bit_or(self, bits):
        return sa.func.groupBitOr(bits, type_=BigInt)

    def first_values(self, value, order, n):
        pairs = sa.func.arraySort(
            sa.literal_column("p -> p.2"), sa.func.groupArray(sa.func.tuple(value, order))
        )
        return sa.func.arrayMap(
            sa.literal_column("p -> p.1"),
            sa.func.arraySlice(pairs, 1, n),
            type_=sa.ARRAY(value.type),
        )

    def first_by(self, value, order, where):
        # argMin skips a NULL value unless it travels inside a tuple.
        pick = sa.func.argMinIf(sa.func.tuple(value), sa.func.tuple(*order), where)
        return sa.func.tupleElement(pick, 1, type_=value.type)


def _non_null(texts: list[sa.ColumnElement]) -> list[sa.ColumnElement]:
    """Each text as two values that are never NULL: the text or '', and whether it is NULL."""
    return [part for t in texts for part in (sa.func.ifNull(t, ""), sa.func.isNull(t))]


class _Parametric(sa.sql.expression.ColumnElement):
    """A ClickHouse parametric aggregate, `name(parameter)(argument)`."""

    inherit_cache = True
    type = sa.Double()
    # Part of the compiled-statement cache key, so another parameter compiles anew.
    _traverse_internals: ClassVar[list] = [
        ("name", InternalTraversal.dp_string),
        ("parameter", InternalTraversal.dp_plain_obj),
        ("argument", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, name: str, parameter: float, argument: sa.ColumnElement):
        self.name, self.parameter, self.argument = name, parameter, argument


class _Lambda(sa.sql.expression.ColumnElement):
    """A ClickHouse lambda, `parameter -> body`, whose body may hold bound expressions."""

    inherit_cache = True
    _traverse_internals: ClassVar[list] = [
        ("parameter", InternalTraversal.dp_string),
        ("body", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, parameter: str, body: sa.ColumnElement):
        self.parameter, self.body = parameter, body


@compiles(_Lambda, "clickhousedb")
def _lambda(element, compiler, **kw):
    return f"{element.parameter} -> {compiler.process(element.body, **kw)}"


@compiles(_Parametric, "clickhousedb")
def _parametric(element, compiler, **kw):
    return (
        f"{element.name}({float(element.parameter)!r})({compiler.process(element.argument, **kw)})"
    )


@compiles(DistinctOnClause, "clickhousedb")
def _distinct_on(element, compiler, **kw):
    # ClickHouse spells PostgreSQL's DISTINCT ON the same way (the first row by ORDER BY).
    return "ON (" + ", ".join(compiler.process(c, **kw) for c in element._distinct_on) + ")"


@compiles(FrameClause)
def _frame(element, compiler, **kw):
    # Window frame offsets as literals (SQLAlchemy 2.1 binds them): DuckDB evaluates a bound
    # offset row by row, which made the visit slices' rebuild 2.3x slower (bench/dashboard).
    kw["literal_binds"] = True
    return compiler.visit_frame_clause(element, **kw)
