"""Filters: the filterable fields, the operators, and how a request's filter parameters parse.

Defined once here and applied the same way by every endpoint and report (docs/query-formulas.md#filters). A
filter names a field and carries an operator and its value(s); turning it into SQL is the
builder's job (`sql.py`), since the same filter lands on different tables (raw events, the
session table, visit slices).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from katsuo import checks
from katsuo.analytics import names
from katsuo.analytics import registry as R
from katsuo.errors import BadRequest

EVENT, SESSION = R.EVENT, R.SESSION
# A filterable field is a dimension of the registry.
Field = R.Dimension


def fields() -> dict[str, Field]:
    """The filterable fields (registry.py); `entry`, `exit` and `domain` arrive only with a
    numeric suffix or through a metrics search (docs/query-formulas.md#filters)."""
    return R.filters()


EQ, NEQ, CONTAINS, NOT_CONTAINS, REGEX, NOT_REGEX = "eq", "neq", "c", "dnc", "re", "nre"
OPERATORS = (EQ, NEQ, CONTAINS, NOT_CONTAINS, REGEX, NOT_REGEX)
# Umami's operator enumeration also has these; they produce no valid SQL there (a 500). Katsuo
# answers 400 naming the parameter instead.
UNSUPPORTED_OPERATORS = ("s", "ns", "t", "f", "gt", "lt", "gte", "lte", "bf", "af")
_OPERATOR_PREFIX = re.compile(
    r"^(" + "|".join(OPERATORS + UNSUPPORTED_OPERATORS) + r")\.(.*)$", re.DOTALL
)
_SUFFIX = re.compile(r"\d+$")


@dataclass(frozen=True)
class Filter:
    field: Field
    operator: str
    values: tuple[str, ...]  # eq/neq: the comma-separated alternatives; others: one value
    param: str  # the parameter it came from (for error messages)

    @property
    def value(self) -> str:
        return self.values[0]

    @property
    def is_session(self) -> bool:
        return self.field.is_session


@dataclass(frozen=True)
class Filters:
    """A request's filters and how they combine (`match=all|any`; eventType is always ANDed)."""

    items: tuple[Filter, ...] = ()
    match: str = "all"

    @property
    def joins_session(self) -> bool:
        """Umami inner-joins the session table for session fields and for `referrer`."""
        return any(f.is_session or f.field.name == "referrer" for f in self.items)


def parse_value(param: str, name: str, raw: str) -> Filter:
    """`value` means equals; `op.value` carries an operator (docs/query-formulas.md#filters)."""
    field_ = fields()[name]
    match = _OPERATOR_PREFIX.match(checks.text(param, raw))
    operator, value = (match.group(1), match.group(2)) if match else (EQ, raw)
    if operator in UNSUPPORTED_OPERATORS:
        raise BadRequest(
            f"{param}: operator {operator!r} is not supported (use {', '.join(OPERATORS)})"
        )
    if name == "eventType":
        return _event_type_filter(param, field_, operator, value)
    if operator in (EQ, NEQ):
        # A value may be the name the pages show ("United States", "iOS Safari") or the code.
        values = names.to_codes(name, tuple(value.split(",")))
    else:
        values = (value,)
    return Filter(field_, operator, values, param)


def _event_type_filter(param: str, field_: Field, operator: str, value: str) -> Filter:
    if operator not in (EQ, NEQ):
        raise BadRequest(f"{param}: only eq and neq apply to eventType")
    # event_type is a 32-bit integer column: larger numbers would fail in PostgreSQL.
    values = (checks.integer(param, v, low=1, high=2**31 - 1) for v in value.split(","))
    return Filter(field_, operator, tuple(str(v) for v in values), param)


def from_params(params: Mapping[str, str]) -> list[Filter]:
    """The filter parameters of a request, in parameter order."""
    found = []
    known = fields()
    for key, raw in params.items():
        if raw is None:
            continue
        name = _SUFFIX.sub("", key)
        suffixed = name != key
        if name in known and (suffixed or known[name].filter == "plain"):
            found.append(parse_value(key, name, raw))
    return found


def object_to_params(filters: object, where: str) -> dict[str, str]:
    """Saved `[{name, operator, value}]` (segments, cohorts) as query-style keys: `name`, then
    `name1`, `name2` … for repeats, value `op.value` (docs/query-formulas.md#segments-and-cohorts). Entries without a name
    or operator are skipped; anything else malformed is a 400 naming `where`."""
    if filters is None:
        return {}
    if not isinstance(filters, list):
        raise BadRequest(f"{where}: must be a list of filters")
    counts: dict[str, int] = {}
    keys: dict[str, str] = {}
    for item in filters:
        if not isinstance(item, Mapping):
            raise BadRequest(f"{where}: every filter must be an object")
        name, operator, value = item.get("name"), item.get("operator"), item.get("value")
        if not isinstance(name, str) or not isinstance(operator, str):
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        count = counts.get(name, 0)
        counts[name] = count + 1
        keys[name if count == 0 else f"{name}{count}"] = f"{operator}.{value}"
    return keys


def parse_saved(params: Mapping[str, str], where: str) -> list[Filter]:
    """Saved filters of a segment or cohort (from `object_to_params`); unknown names are
    ignored as Umami ignores them."""
    parsed = []
    known = fields()
    for key, raw in params.items():
        name = _SUFFIX.sub("", key)
        if name in known:
            parsed.append(parse_value(f"{where}.{key}", name, raw))
    return parsed


def parse_match(raw: str | None) -> str:
    if raw in (None, "", "all"):
        return "all"
    if raw == "any":
        return "any"
    raise BadRequest("match: must be all or any")
