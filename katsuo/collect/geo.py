"""Country, region (`CC-SUB`) and city of a hit: from a CDN's geo headers, else from a MaxMind
City database read with `maxminddb`. Private and loopback IPs get none
(docs/collection.md#geo-location)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from katsuo.collect.ip import is_local, normalise
from katsuo.collect.urls import decode_uri_component

log = logging.getLogger("katsuo.collect")

DEFAULT_DATABASE = Path("geo") / "GeoLite2-City.mmdb"

# (country, region, city) headers of each provider; the first provider with a country wins.
PROVIDER_HEADERS = (
    ("cf-ipcountry", "cf-region-code", "cf-ipcity"),  # Cloudflare
    ("x-vercel-ip-country", "x-vercel-ip-country-region", "x-vercel-ip-city"),  # Vercel
    ("cloudfront-viewer-country", "cloudfront-viewer-country-region", "cloudfront-viewer-city"),
    ("eo-ipcountry", "eo-region-code", "eo-ipcity"),  # EdgeOne
)


@dataclass(slots=True, frozen=True)
class Place:
    country: str | None = None
    region: str | None = None
    city: str | None = None


NOWHERE = Place()


def _region(country: str | None, region: str | None) -> str | None:
    if not country or not region:
        return None
    return region if "-" in region else f"{country}-{region}"


def _header(value: str | None) -> str | None:
    # Header bytes arrive decoded as Latin-1; CDNs send UTF-8 (e.g. "Zürich").
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _place(country: str | None, region: str | None, city: str | None) -> Place:
    # Decoded once more (as Umami does), then cut to the column sizes (char(2), varchar 20 / 50):
    # Umami would fail the insert on longer values.
    country = decode_uri_component(country)[:2] if country else None
    region = _region(country, decode_uri_component(region) if region else None)
    city = decode_uri_component(city)[:50] if city else None
    return Place(country or None, region[:20] if region else None, city or None)


class GeoLocator:
    """Looks places up; the database is opened once, on first use, and closed with the server."""

    def __init__(self, database_path: str | Path | None = None, *, use_headers: bool = True):
        self.path = Path(database_path) if database_path else DEFAULT_DATABASE
        self.use_headers = use_headers
        self._reader = None
        self._opened = False
        self._lock = threading.Lock()
        # Per IP address: a visitor's hits repeat it, and a miss costs ~15 µs (~16 MB when full).
        self._lookup = lru_cache(maxsize=65536)(self._lookup_uncached)

    def locate(self, ip: str, headers: Mapping[str, str], *, ip_from_payload: bool) -> Place:
        if is_local(ip):
            return NOWHERE
        if self.use_headers and not ip_from_payload:
            for country_header, region_header, city_header in PROVIDER_HEADERS:
                country = headers.get(country_header)
                if country:
                    return _place(
                        _header(country),
                        _header(headers.get(region_header)),
                        _header(headers.get(city_header)),
                    )
        return self._lookup(normalise(ip))

    def load(self):
        """Open the database, once (~45 ms): at start, rather than while the first hit waits."""
        with self._lock:
            if not self._opened:
                self._opened = True
                if self.path.is_file():
                    import maxminddb

                    self._reader = maxminddb.open_database(str(self.path))
                else:
                    log.warning(
                        "no geo database at %s: locations come from CDN headers only "
                        "(run `katsuo geo install`, or set GEOLITE_DB_PATH)",
                        self.path,
                    )
        return self._reader

    def _lookup_uncached(self, ip: str) -> Place:
        reader = self._reader if self._opened else self.load()
        if reader is None:
            return NOWHERE
        try:
            record = reader.get(ip)
        except ValueError:  # not an IP address
            return NOWHERE
        if not isinstance(record, dict):
            return NOWHERE
        country = (record.get("country") or {}).get("iso_code") or (
            record.get("registered_country") or {}
        ).get("iso_code")
        subdivisions = record.get("subdivisions") or [{}]
        city = ((record.get("city") or {}).get("names") or {}).get("en")
        return _place(country, subdivisions[0].get("iso_code"), city)

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
            self._reader, self._opened = None, False
            self._lookup.cache_clear()
