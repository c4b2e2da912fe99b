"""The `/api/send` body: parsed and validated into a `Hit`, or a 400 that names each bad field
(docs/collection.md#the-send-body; errors shaped like Umami's treeified zod errors:
docs/collection.md#answers-and-errors)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from katsuo.errors import BadRequest

TYPES = ("event", "identify", "performance")

# RFC 9562 UUID (version 1-8, variant 8/9/a/b), plus the nil and max UUIDs, as zod's z.uuid().
_UUID = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    r"|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$",
    re.IGNORECASE,
)

# Strings with a length limit. Umami validates hostname..tag; `id` has the docs' 50-character limit
# (Distinct IDs page; Umami's schema has none and its varchar(50) insert fails instead), and the
# browser/os/device overrides get their varchar(20) limit here so an over-long one is a 400, not a
# failed insert.
_MAX_LENGTH = {
    "hostname": 100,
    "language": 35,
    "screen": 11,
    "name": 50,
    "tag": 50,
    "id": 50,
    "browser": 20,
    "os": 20,
    "device": 20,
}
_STRINGS = (
    "hostname",
    "language",
    "screen",
    "title",
    "name",
    "tag",
    "id",
    "ip",
    "userAgent",
    "browser",
    "os",
    "device",
)
_METRICS = {"lcp": 60000, "inp": 60000, "fcp": 60000, "ttfb": 60000, "cls": 100}
# Unix seconds a datetime (and every engine's timestamp type) can hold: years 1970 to 9999.
_MAX_TIMESTAMP = 253402300799
# Nesting of `data` (JSON itself allows ~1000 levels; flattening walks them recursively).
MAX_DATA_DEPTH = 64


def _clean(value: str) -> str:
    # PostgreSQL text cannot hold NUL characters; they carry no meaning in analytics anyway.
    return value.replace("\x00", "") if "\x00" in value else value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        for child in children:
            if isinstance(child, (dict, list)):
                if level + 1 > MAX_DATA_DEPTH:
                    return level + 1
                stack.append((child, level + 1))
        deepest = max(deepest, level)
    return deepest


@dataclass(slots=True)
class Hit:
    """One validated `/api/send` body. Absent fields are None."""

    type: str
    website: str | None = None
    link: str | None = None
    pixel: str | None = None
    url: str | None = None
    referrer: str | None = None
    hostname: str | None = None
    language: str | None = None
    screen: str | None = None
    title: str | None = None
    name: str | None = None
    tag: str | None = None
    data: dict | None = None
    id: str | None = None
    timestamp: int | None = None
    ip: str | None = None
    userAgent: str | None = None
    browser: str | None = None
    os: str | None = None
    device: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def source_id(self) -> str:
        """The id the hit is recorded under: website, or link / pixel id
        (docs/schema.md#one-id-space)."""
        return self.website or self.link or self.pixel  # type: ignore[return-value]


class Problems:
    """Collects field errors into Umami's tree: {errors: [...], properties: {key: {errors...}}}."""

    def __init__(self) -> None:
        self.tree: dict = {"errors": []}
        self.flat: list[tuple[str, str]] = []

    def add(self, path: tuple[str, ...], message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault("properties", {}).setdefault(key, {"errors": []})
        node["errors"].append(message)
        self.flat.append((".".join(path) or "body", message))

    def __bool__(self) -> bool:
        return bool(self.flat)

    def error(self) -> BadRequest:
        summary = "; ".join(f"{where}: {message}" for where, message in self.flat[:5])
        return BadRequest(f"Bad request: {summary}", **self.tree)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _resolvable(value: str) -> bool:
    """Whether WHATWG URL parsing against https://localhost would succeed (close enough: what
    fails there is a malformed absolute URL's authority)."""
    try:
        parts = urlsplit(value)
        if parts.netloc:
            parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return True


def parse_body(raw: bytes) -> Any:
    """The request body as JSON; a body that is not JSON is treated as empty, as Umami does."""
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def validate(body: Any) -> Hit:
    """A Hit from a decoded body, or BadRequest naming every bad field. Unknown keys are ignored."""
    problems = Problems()
    if not isinstance(body, dict):
        problems.add((), f"Invalid input: expected object, received {_kind(body)}")
        raise problems.error()
    kind = body.get("type")
    if kind not in TYPES:
        problems.add(("type",), 'Invalid option: expected one of "event"|"identify"|"performance"')
    payload = body.get("payload")
    if not isinstance(payload, dict):
        problems.add(("payload",), f"Invalid input: expected object, received {_kind(payload)}")
        raise problems.error()
    hit = Hit(type=kind if kind in TYPES else "event")
    _check_payload(payload, hit, problems)
    if problems:
        raise problems.error()
    return hit


def _check_payload(payload: dict, hit: Hit, problems: Problems) -> None:
    def bad(key: str, message: str) -> None:
        problems.add(("payload", key), message)

    for key in ("website", "link", "pixel"):
        if key in payload:
            value = payload[key]
            if isinstance(value, str) and _UUID.match(value):
                setattr(hit, key, value.lower())
            else:
                bad(key, "Invalid UUID")
    for key in _STRINGS:
        if key not in payload:
            continue
        value = payload[key]
        if not isinstance(value, str):
            bad(key, f"Invalid input: expected string, received {_kind(value)}")
        elif len(value) > _MAX_LENGTH.get(key, len(value)):
            bad(key, f"Too big: expected string to have <={_MAX_LENGTH[key]} characters")
        else:
            setattr(hit, key, _clean(value))
    for key in ("url", "referrer"):
        if key not in payload:
            continue
        value = payload[key]
        if not isinstance(value, str):
            bad(key, f"Invalid input: expected string, received {_kind(value)}")
        elif not _resolvable(value):
            bad(key, "Invalid input: not a URL or path")
        else:
            setattr(hit, key, _clean(value))
    if "data" in payload:
        data = payload["data"]
        if not isinstance(data, dict):
            bad("data", f"Invalid input: expected record, received {_kind(data)}")
        elif _depth(data) > MAX_DATA_DEPTH:
            bad("data", f"Too deep: expected at most {MAX_DATA_DEPTH} levels of nesting")
        else:
            hit.data = data
    if "timestamp" in payload:
        hit.timestamp = _timestamp(payload["timestamp"], lambda message: bad("timestamp", message))
    for key, limit in _METRICS.items():
        if key not in payload:
            continue
        value = payload[key]
        if _kind(value) != "number":
            bad(key, f"Invalid input: expected number, received {_kind(value)}")
        elif value < 0:
            bad(key, "Too small: expected number to be >=0")
        elif value > limit:
            bad(key, f"Too big: expected number to be <={limit}")
        else:
            hit.metrics[key] = float(value)
    if sum(1 for key in ("website", "link", "pixel") if payload.get(key)) != 1:
        bad("website", "Exactly one of website, link, or pixel must be provided")


def _timestamp(value: Any, bad) -> int | None:
    # z.coerce.number().int(): numbers and numeric strings, whole values only.
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        bad(f"Invalid input: expected int, received {_kind(value)}")
        return None
    try:
        number = float(value.strip() or "0") if isinstance(value, str) else float(value)
    except ValueError:
        bad("Invalid input: expected number, received NaN")
        return None
    if math.isnan(number) or not number.is_integer():
        bad("Invalid input: expected int, received number")
        return None
    if not 0 <= number <= _MAX_TIMESTAMP:
        bad(f"Out of range: expected unix seconds between 0 and {_MAX_TIMESTAMP}")
        return None
    return int(number)
