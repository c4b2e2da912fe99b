"""Event data and session data: a JSON object flattened into typed rows, with the docs' "Event
Data Limits" (docs/collection.md#event-data), and the revenue amount of an event
(docs/collection.md#revenue).

Where the docs and Umami's code disagree, Katsuo follows the docs ("Tracker functions" → "Event
Data Limits"): strings and array texts are cut to 500 characters and an object keeps its first
50 properties (Umami 3.1 enforces neither and its insert fails instead).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import orjson

from katsuo.collect.urls import truncate

STRING, NUMBER, BOOLEAN, DATE, ARRAY = 1, 2, 3, 4, 5
MAX_PROPERTIES = 50
MAX_LENGTH = 500
# decimal(19,4) holds |x| < 10^15; a larger number keeps its text but no number_value (Umami's
# insert would fail).
_MAX_NUMBER = Decimal(10) ** 15
_FOUR_PLACES = Decimal("0.0001")
_DATE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3}(Z|\+[0-9]{2}:[0-9]{2})?)?$"
)


@dataclass(slots=True, frozen=True)
class DataValue:
    """One flattened property: the dotted key and its typed value."""

    key: str
    data_type: int
    string_value: str
    number_value: Decimal | None = None
    date_value: datetime | None = None


def js_number_text(value: float) -> str:
    """Number.prototype.toString() (ECMAScript Number::toString): the shortest round-trip digits,
    written plainly from 1e-6 up to 1e21 and with an exponent outside that range."""
    if isinstance(value, int) and abs(value) < 2**53:
        return str(value)
    value = float(value)
    if math.isinf(value) or math.isnan(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = exponent + k  # value = 0.<digits> x 10^n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        power = n - 1
        text = (
            digits[0]
            + ("." + digits[1:] if k > 1 else "")
            + ("e+" if power > 0 else "e-")
            + str(abs(power))
        )
    return "-" + text if sign else text


def to_fixed4(value: float) -> str:
    """Number.prototype.toFixed(4): half away from zero on the exact binary value; from 1e21 on
    the plain number text ("1e+21")."""
    if abs(value) >= 1e21:
        return js_number_text(value)
    fixed = Decimal(value).quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)
    text = format(fixed, "f")
    # (-0).toFixed(4) is "0.0000" but (-0.00001).toFixed(4) is "-0.0000".
    return text[1:] if value == 0 and text.startswith("-") else text


def _js_json(value):
    """Values as JSON.stringify writes them: whole floats without '.0'."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, list):
        return [_js_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _js_json(item) for key, item in value.items()}
    return value


@lru_cache(maxsize=1024)
def _parse_date(text: str) -> datetime | None:
    # An offset-less value is read as UTC: Umami uses the server's zone, run in UTC.
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None  # matches the pattern but is no date (month 13): kept as a string
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _value(key: str, value) -> DataValue:
    if isinstance(value, bool):
        return DataValue(key, BOOLEAN, "true" if value else "false")
    if isinstance(value, (int, float)):
        number = (
            Decimal(value).quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)
            if abs(value) < _MAX_NUMBER
            else None
        )
        return DataValue(key, NUMBER, to_fixed4(value), number_value=number)
    if isinstance(value, str):
        if _DATE.match(value) and (moment := _parse_date(value)) is not None:
            iso = moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            return DataValue(key, DATE, iso, date_value=moment)
        return DataValue(key, STRING, truncate(value.replace("\x00", ""), MAX_LENGTH))
    # arrays and null (JSON has nothing else left): their JSON text
    return DataValue(key, ARRAY, truncate(orjson.dumps(_js_json(value)).decode(), MAX_LENGTH))


def flatten(data: dict) -> list[DataValue]:
    """Leaf values under dotted keys, in insertion order; nested objects are walked, an empty one
    gives nothing. At most 50 properties (an array counts as one)."""
    out: list[DataValue] = []
    _walk(data, "", out)
    return out


def _walk(data: dict, prefix: str, out: list[DataValue]) -> None:
    for key, value in data.items():
        if len(out) >= MAX_PROPERTIES:
            return
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _walk(value, name, out)
        else:
            out.append(_value(truncate(name.replace("\x00", ""), MAX_LENGTH), value))


def _js_positive_number(value) -> Decimal | None:
    """`value > 0` after JavaScript's coercion, for numbers, booleans and numeric strings."""
    if isinstance(value, (bool, int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = (
                float(text)
                if text and text.lower() not in ("nan", "inf", "infinity", "+inf")
                else 0.0
            )
        except ValueError:
            return None
    else:
        return None
    if not 0 < number < 1e15:  # decimal(19,4); larger amounts are not stored
        return None
    return Decimal(str(value) if isinstance(value, str) else number).quantize(
        _FOUR_PLACES, ROUND_HALF_UP
    )


def revenue(data: dict | None) -> tuple[Decimal, str] | None:
    """(amount, currency) when the event data carries a positive top-level `revenue` and a
    `currency`. The currency is kept as sent when it is an ISO 4217 code (any case); anything else
    becomes USD, as the Revenue docs (and the issue) say unknown codes are treated."""
    if not data or "revenue" not in data or not data.get("currency"):
        return None
    amount = _js_positive_number(data["revenue"])
    if amount is None:
        return None
    currency = data["currency"]
    code = currency.strip() if isinstance(currency, str) else ""
    return amount, code if code.upper() in _iso4217_codes() else "USD"


@lru_cache(maxsize=1)
def _iso4217_codes() -> frozenset[str]:
    from iso4217 import Currency

    return frozenset(currency.code for currency in Currency)
