"""What every value a client sends must satisfy before any engine sees it: text that every
engine can store (no NUL character, no lone surrogate, a bounded length), integers written as
plain digits within bounds, finite numbers, bounded nesting. The parsers of raw parameter text
answer a 400 naming the parameter; `storable` is the check Pydantic models reuse."""

from __future__ import annotations

import math
import re
from typing import Any

from katsuo.errors import BadRequest

MAX_DEPTH = 32  # nesting of free-form JSON such as report parameters
MAX_TEXT = 1_000  # a query parameter's text: a filter value, a search
# Matched before converting, so that a 5,000-digit number is refused without converting it.
_INTEGER = re.compile(r"[+-]?\d{1,18}")


def storable(value: Any, depth: int = 0) -> Any:
    """The value unchanged, or a ValueError saying why no engine could store it."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text") from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    elif isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise ValueError(f"must not be nested more than {MAX_DEPTH} levels deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            storable(key, depth + 1)
            storable(item, depth + 1)
    return value


def text(name: str, raw: Any, *, max_length: int = MAX_TEXT) -> str:
    """Parameter text every engine can compare against: a string, storable, not too long."""
    if not isinstance(raw, str):
        raise BadRequest(f"{name}: must be a string")
    try:
        storable(raw)
    except ValueError as error:
        raise BadRequest(f"{name}: {error}") from None
    if len(raw) > max_length:
        raise BadRequest(f"{name}: at most {max_length} characters")
    return raw


def integer(name: str, raw: str | None, *, low: int, high: int, default: int | None = None) -> int:
    """An integer parameter from `low` to `high`; missing or empty gives `default`."""
    if raw is None or raw == "":
        if default is None:
            raise BadRequest(f"{name}: required")
        return default
    digits = raw.strip() if isinstance(raw, str) else ""
    if not _INTEGER.fullmatch(digits) or not low <= int(digits) <= high:
        raise BadRequest(f"{name}: must be an integer from {low} to {high}")
    return int(digits)
