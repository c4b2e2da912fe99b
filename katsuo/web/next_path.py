"""Where a page may send the browser after a login: a path on this server under BASE_PATH, never
another site (an open redirect would lend Katsuo's address to phishing links)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

# Browsers drop tabs and newlines from URLs and read "\" as "/", so "/\t/evil" and "/\evil" both
# become "//evil", another host. Any control character, backslash or space is refused outright.
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def safe_next(value: str, base: str) -> str | None:
    """`value` if it is a same-origin path under `base` (BASE_PATH, "" for the root), else None."""
    if (
        not value
        or _UNSAFE.search(value)
        or not value.startswith(base + "/")
        or value.startswith("//")
    ):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    # Dot segments ("..", also percent-encoded) would climb out of BASE_PATH once the browser
    # resolves them; no link Katsuo makes contains one.
    if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")):
        return None
    return value
