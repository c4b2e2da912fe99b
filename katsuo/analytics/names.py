"""Display names: what a person reads for the stored codes (browsers, systems, devices, channels,
countries, filter fields and operators), and the way back from a name to its code so filters and
searches accept what the pages show. Stored values and CSV exports keep the codes."""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

from katsuo.analytics import registry

log = logging.getLogger("katsuo.names")

# The English country names of the npm package i18n-iso-countries, copied by setup beside the
# map's other files (katsuo/web/vendor.py VENDOR_FILES); code -> a name or a list of names.
COUNTRY_NAMES_FILE = Path(__file__).parents[1] / "web" / "static" / "vendor" / "country-names.json"

BROWSERS = {
    "chrome": "Chrome",
    "crios": "Chrome (iOS)",
    "firefox": "Firefox",
    "fxios": "Firefox (iOS)",
    "safari": "Safari",
    "ios": "iOS Safari",
    "ios-webview": "iOS WebView",
    "edge-chromium": "Edge",
    "edge": "Edge (legacy)",
    "edge-ios": "Edge (iOS)",
    "opera": "Opera",
    "opera-mini": "Opera Mini",
    "samsung": "Samsung Internet",
    "yandexbrowser": "Yandex",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "chromium-webview": "Chrome WebView",
    "android": "Android Browser",
    "brave": "Brave",
    "silk": "Silk",
    "ie": "Internet Explorer",
}
SYSTEMS = {"Mac OS": "macOS", "Chrome OS": "ChromeOS", "Android OS": "Android"}
DEVICES = {"desktop": "Desktop", "laptop": "Laptop", "mobile": "Mobile", "tablet": "Tablet"}
CHANNELS = {
    "direct": "Direct",
    "referral": "Referral",
    "affiliate": "Affiliate",
    "sms": "SMS",
    "email": "Email",
    "paidAds": "Paid ads",
    "organicSearch": "Organic search",
    "paidSearch": "Paid search",
    "organicSocial": "Organic social",
    "paidSocial": "Paid social",
    "organicShopping": "Organic shopping",
    "paidShopping": "Paid shopping",
    "organicVideo": "Organic video",
    "paidVideo": "Paid video",
    "Unknown": "Unknown",
}

SHORT_NAMES = {
    "US": "United States",
    "CN": "China",
    "RU": "Russia",
    "IR": "Iran",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "CZ": "Czechia",
    "MK": "North Macedonia",
    "PS": "Palestine",
    "GM": "Gambia",
    "CG": "Congo",
    "CD": "DR Congo",
}

OPERATOR_LABELS = {
    "eq": "is",
    "neq": "is not",
    "c": "contains",
    "dnc": "does not contain",
    "re": "matches",
    "nre": "does not match",
}
COHORT_RANGES = {
    "7day": "Last 7 days",
    "30day": "Last 30 days",
    "90day": "Last 90 days",
    "12month": "Last 12 months",
}


@cache
def countries() -> dict[str, str]:
    """Alpha-2 code -> the country's common name (empty if setup has not copied the file)."""
    try:
        table = json.loads(COUNTRY_NAMES_FILE.read_text(encoding="utf-8"))["countries"]
    except (OSError, ValueError, KeyError):
        log.warning("country names missing (%s): run scripts/setup.sh", COUNTRY_NAMES_FILE.name)
        return {}
    # Where the package lists several names its first is the official one; the short name
    # people say is preferred for the few where the two differ much.
    return {
        code: SHORT_NAMES.get(code) or (names if isinstance(names, str) else names[0])
        for code, names in table.items()
    }


@cache
def _country_codes() -> dict[str, str]:
    table = json.loads(COUNTRY_NAMES_FILE.read_text(encoding="utf-8"))["countries"]
    codes = {}
    for code, names in table.items():
        for name in [names] if isinstance(names, str) else names:
            codes[name.casefold()] = code
    return codes


TABLES = {"browser": BROWSERS, "os": SYSTEMS, "device": DEVICES, "channel": CHANNELS}


def display(field: str, value: str | None) -> str:
    """What a person reads for `value` of `field`: "chrome" -> "Chrome", "DE" -> "Germany"."""
    if value is None or value == "":
        return "(none)"
    if field == "country":
        return countries().get(value.upper(), value)
    if field == "region" and "-" in value:
        country, _, region = value.partition("-")
        return f"{region}, {countries().get(country.upper(), country)}"
    return TABLES.get(field, {}).get(value, value)


def code_of(field: str, text: str) -> str | None:
    """The stored code a person's `text` names for `field` (a display name, any letter case),
    or None when it names none."""
    wanted = text.strip().casefold()
    if field == "country":
        try:
            return _country_codes().get(wanted)
        except (OSError, ValueError, KeyError):
            return None
    for code, name in TABLES.get(field, {}).items():
        if name.casefold() == wanted:
            return code
    return None


def to_codes(field: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """Filter values with display names replaced by their codes; codes pass unchanged."""
    if field not in TABLES and field != "country":
        return values
    return tuple(code_of(field, value) or value for value in values)


def field_label(name: str) -> str:
    """A filter field's display name (registry.py), or the name itself."""
    dimension = registry.DIMENSIONS.get(name)
    return dimension.label if dimension is not None else name


def page_lists() -> dict:
    """The lists the dashboard pages need, served with each page instead of copied into JS: the
    filter dialog's fields, the operators, the metric tables' groups, the metrics' names and the
    stored codes' display names."""
    return {
        "fields": [[d.name, d.label] for d in registry.menu()],
        "operators": list(OPERATOR_LABELS.items()),
        "metricGroups": registry.metric_groups(),
        "metrics": [[m.name, m.label] for m in registry.METRICS.values()],
        "names": {**TABLES, "country": countries()},
        "cohortRanges": list(COHORT_RANGES.items()),
    }
