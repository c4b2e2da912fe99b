"""Page URL, referrer and title as Umami stores them: path with fragment, raw query, campaign
parameters and click ids, referrer parts, decoded title, and the same truncation to 500 UTF-16
code units (docs/collection.md#page-url-referrer-and-title)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

URL_LENGTH = 500
CAMPAIGN_PARAMETERS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "gclid",
    "fbclid",
    "msclkid",
    "ttclid",
    "li_fat_id",
    "twclid",
)
# Campaign and click-id columns are varchar(255); Umami does not truncate them and its insert
# fails on a longer value, Katsuo truncates instead of failing the hit.
CAMPAIGN_LENGTH = 255

# decodeURI leaves escapes of these characters encoded.
_RESERVED = frozenset(";/?:@&=+$,#")
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_TRAILING_SLASH = re.compile(r"/(?=(#.*)?$)", re.DOTALL)
_LEADING_WWW = re.compile(r"^www.", re.DOTALL)  # Umami's regex: "www" plus any one character
# What the WHATWG URL parser percent-encodes in a query of a special URL (kept otherwise).
_QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\"#<>'")


def is_web_url(url: str) -> bool:
    """Whether `url` is an absolute http(s) URL with a host and nothing a browser would strip
    or reinterpret (whitespace, control characters): what a short link may redirect to."""
    if not url or any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    return scheme in ("http", "https") and bool(host) and url[len(scheme) :].startswith("://")


def truncate(value: str | None, limit: int) -> str | None:
    """JavaScript's substring(0, limit): at most `limit` UTF-16 code units (pairs kept whole)."""
    if value is None or len(value) <= limit // 2:
        return value
    units = 0
    for index, char in enumerate(value):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return value[:index]
    return value


def decode_uri(value: str) -> str:
    """JavaScript's decodeURI; on a malformed escape the raw value is kept (safeDecodeURI)."""
    if "%" not in value or _BROKEN_ESCAPE.search(value):
        return value

    def run(match: re.Match) -> str:
        raw = match.group(0)
        data = bytes.fromhex(raw.replace("%", ""))
        text = data.decode("utf-8")  # UnicodeDecodeError: caught below, raw value kept
        out, position = [], 0
        for char in text:
            width = len(char.encode("utf-8")) * 3
            out.append(raw[position : position + width] if char in _RESERVED else char)
            position += width
        return "".join(out)

    try:
        return _ESCAPES.sub(run, value)
    except UnicodeDecodeError:
        return value


def decode_uri_component(value: str) -> str:
    """JavaScript's decodeURIComponent; on error the raw value is kept."""
    if "%" not in value or _BROKEN_ESCAPE.search(value):
        return value
    try:
        return _ESCAPES.sub(
            lambda m: bytes.fromhex(m.group(0).replace("%", "")).decode("utf-8"), value
        )
    except UnicodeDecodeError:
        return value


@dataclass(slots=True, frozen=True)
class Location:
    """A URL resolved against the site, split as the WHATWG parser splits it."""

    host: str
    path: str
    query: str
    fragment: str


def _host(netloc_host: str | None) -> str:
    host = netloc_host or ""
    if host and not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return host


@lru_cache(maxsize=4096)
def resolve(url: str | None, hostname: str | None) -> Location:
    """`new URL(url, "https://<hostname or localhost>")`. A missing url parses as "undefined"."""
    base = f"https://{hostname}/" if hostname else "https://localhost/"
    try:
        urlsplit(base).port  # noqa: B018 - a hostname that is no host falls back to localhost
    except ValueError:
        base = "https://localhost/"
    text = (
        "undefined"
        if url is None
        else url.strip().replace("\\", "/")
        if _special(url)
        else url.strip()
    )
    try:
        parts = urlsplit(urljoin(base, text))
        host = parts.hostname
    except ValueError:
        parts = urlsplit(base)
        host = parts.hostname
    path = parts.path or ("/" if parts.scheme in ("http", "https", "") else "")
    query = quote(parts.query, safe=_QUERY_SAFE) if parts.query else ""
    return Location(_host(host), path, query, parts.fragment)


def _special(url: str) -> bool:
    # Backslashes are path separators only in special (http/https/relative) URLs.
    scheme = url.split(":", 1)[0].lower() if ":" in url.split("/", 1)[0] else ""
    return scheme in ("", "http", "https", "ws", "wss", "ftp", "file")


def page_path(location: Location, *, remove_trailing_slash: bool) -> str:
    """url_path: pathname plus `#fragment`; '' for a missing URL; decodeURI'd; truncated."""
    if location.path == "/undefined":
        path = ""
    else:
        path = location.path + ("#" + location.fragment if location.fragment else "")
    if remove_trailing_slash:
        path = _TRAILING_SLASH.sub("", path, count=1)
    return truncate(decode_uri(path), URL_LENGTH)


def campaign(location: Location) -> dict[str, str | None]:
    """utm_* and click ids from the page query: first occurrence, decoded, None when absent."""
    found: dict[str, str | None] = dict.fromkeys(CAMPAIGN_PARAMETERS)
    if not location.query:
        return found
    for key, value in parse_qsl(location.query, keep_blank_values=True):
        if key in found and found[key] is None:
            found[key] = truncate(value, CAMPAIGN_LENGTH)
    return found


def site_hostname(location: Location) -> str:
    return _LEADING_WWW.sub("", location.host, count=1)


@dataclass(slots=True, frozen=True)
class Referrer:
    path: str | None = None
    query: str | None = None
    domain: str | None = None


def referrer(value: str | None, hostname: str | None) -> Referrer:
    """Referrer parts; all None when there is none. Self-referrals are kept (filtered on read)."""
    if not value:
        return Referrer()
    location = resolve(value, hostname)
    domain = location.host.removeprefix("www.")
    return Referrer(
        path=truncate(decode_uri(location.path), URL_LENGTH),
        query=truncate(location.query, URL_LENGTH),
        domain=truncate(domain, URL_LENGTH),
    )


def title(value: str | None) -> str | None:
    return None if value is None else truncate(decode_uri_component(value), URL_LENGTH)
