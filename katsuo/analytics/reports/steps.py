"""Steps: what reports match events against — a page path or an event name, the `*` wildcard
rule of funnel and goal steps and event-data conditions of funnel steps (docs/query-formulas.md#step-matching,
#funnel). The journey's label of an event is `slices.journey_label`, shared with the visit slices."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import sql as Q
from katsuo.analytics.dialects import Dialect
from katsuo.analytics.query import Query
from katsuo.errors import BadRequest
from katsuo.store import schema

PATH, EVENT = "path", "event"
STEP_TYPES = (PATH, EVENT)
PAGE_VIEW = 1
DATA_OPERATORS = (F.EQ, F.NEQ, F.CONTAINS, F.NOT_CONTAINS)

e = schema.website_event
d = schema.event_data


@dataclass(frozen=True)
class DataCondition:
    """An event-data condition of an event step: `property` compared with `value`."""

    property: str
    operator: str
    value: str

    def as_json(self) -> dict:
        return {"property": self.property, "operator": self.operator, "value": self.value}


@dataclass(frozen=True)
class Step:
    type: str
    value: str
    data: tuple[DataCondition, ...] | None = None  # None: the request gave no `filters`

    def as_json(self) -> dict:
        found: dict[str, Any] = {"type": self.type, "value": self.value}
        if self.data is not None:
            found["filters"] = [c.as_json() for c in self.data]
        return found


def column(step_type: str) -> sa.ColumnElement:
    return e.c.url_path if step_type == PATH else e.c.event_name


def matches(dialect: Dialect, column: sa.ColumnElement, value: str) -> sa.ColumnElement:
    """Exact equality, or — when the value starts or ends with `*` — a case-sensitive LIKE with
    that leading and trailing `*` turned into `%` (other `*` stay literal; `%` and `_` in the
    value stay wildcards, as in Umami)."""
    if value.startswith("*") or value.endswith("*"):
        pattern = value
        if pattern.startswith("*"):
            pattern = "%" + pattern[1:]
        if pattern.endswith("*"):
            pattern = pattern[:-1] + "%"
        if (len(pattern) - len(pattern.rstrip("\\"))) % 2:
            pattern += "\\"  # a lone trailing escape is an error in SQL; mean the character
        return dialect.like(column, pattern)
    return column == value


def event_type_filter(step_type: str) -> F.Filter:
    """Goal and attribution steps: `path` looks at page views, `event` at custom events."""
    return F.parse_value(
        "parameters.type", "eventType", str(PAGE_VIEW if step_type == PATH else Q.CUSTOM_EVENT)
    )


def with_event_type(query: Query, event_type: F.Filter | None = None) -> Query:
    """The query with its `eventType` filter replaced by `event_type`, or dropped: reports that
    look at one kind of event set it themselves, as Umami does."""
    kept = tuple(f for f in query.filters.items if f.field.name != "eventType")
    if event_type is not None:
        kept += (event_type,)
    return replace(query, filters=F.Filters(kept, query.filters.match))


def data_clause(dialect: Dialect, query: Query, condition: DataCondition) -> sa.ColumnElement:
    """The event has event data `property` whose rendered value (numbers without a trailing
    `.0000`, docs/query-formulas.md#rendered-values) satisfies the condition; data rows are looked at inside the range."""
    rendered = sa.case(
        (d.c.data_type == 2, sa.func.replace(d.c.string_value, ".0000", "")), else_=d.c.string_value
    )
    if condition.operator == F.EQ:
        test = rendered == condition.value
    elif condition.operator == F.NEQ:
        test = rendered != condition.value
    else:
        test = dialect.contains(rendered, condition.value)
        if condition.operator == F.NOT_CONTAINS:
            test = sa.not_(test)
    return e.c.event_id.in_(
        sa.select(d.c.website_event_id).where(
            d.c.website_id == query.website_id,
            d.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
            d.c.data_key == condition.property,
            test,
        )
    )


def parse_step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise BadRequest(f"{where}: must be an object with type and value")
    step_type, value = raw.get("type"), raw.get("value")
    if step_type not in STEP_TYPES:
        raise BadRequest(f"{where}.type: must be path or event")
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{where}.value: required (a string)")
    if len(value) > 500:
        raise BadRequest(f"{where}.value: at most 500 characters")
    conditions = raw.get("filters")
    if conditions is None:
        return Step(step_type, value)
    if not isinstance(conditions, list):
        raise BadRequest(f"{where}.filters: must be an array")
    return Step(
        step_type,
        value,
        tuple(_parse_condition(c, f"{where}.filters.{i}") for i, c in enumerate(conditions)),
    )


def _parse_condition(raw: Any, where: str) -> DataCondition:
    if not isinstance(raw, dict):
        raise BadRequest(f"{where}: must be an object with property, operator and value")
    prop, operator, value = raw.get("property"), raw.get("operator"), raw.get("value")
    if not isinstance(prop, str) or not prop:
        raise BadRequest(f"{where}.property: required (a string)")
    if operator not in DATA_OPERATORS:
        raise BadRequest(f"{where}.operator: must be one of {', '.join(DATA_OPERATORS)}")
    if not isinstance(value, str):
        raise BadRequest(f"{where}.value: must be a string")
    return DataCondition(prop, operator, value)
