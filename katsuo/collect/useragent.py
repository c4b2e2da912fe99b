"""Browser, OS and device from the User-Agent, with the names Umami stores
(docs/collection.md#browser-os-and-device).

Umami names browsers and systems with detect-browser (the first matching rule of an ordered list
decides, so "Chrome/… OPR/…" is `opera` and a PlayStation's WebKit is `ios-webview`) and takes the
device type from ua-parser-js. The names are defined by that rule order rather than by what the
browser is, so the browser and OS tables below restate the order as observed; the device type is
derived from `ua-parser` (uap-core's maintained device rules: brand, model, family). Both are
checked against tests/data/ua_conformance.json, produced by the npm packages themselves.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

# (name, pattern): first match wins. `(?!Chrom.*OPR)` keeps Opera's Chrome token from counting.
_VERSION_END = r"(?::?\s|$)"
BROWSER_RULES = [
    (name, re.compile(pattern))
    for name, pattern in (
        ("aol", r"AOLShield/[0-9._]+"),
        ("edge", r"Edge/[0-9._]+"),
        ("edge-ios", r"EdgiOS/[0-9._]+"),
        ("yandexbrowser", r"YaBrowser/[0-9._]+"),
        ("kakaotalk", r"KAKAOTALK\s[0-9.]+"),
        ("samsung", r"SamsungBrowser/[0-9.]+"),
        ("silk", r"\bSilk/[0-9._-]+\b"),
        ("miui", r"MiuiBrowser/[0-9.]+$"),
        ("beaker", r"BeakerBrowser/[0-9.]+"),
        ("edge-chromium", r"EdgA?/[0-9.]+"),
        ("chromium-webview", r"wv\).*Chrom(?:e|ium)/[0-9.]+" + _VERSION_END),
        ("chrome", r"(?!Chrom.*OPR)Chrom(?:e|ium)/[0-9.]+" + _VERSION_END),
        ("phantomjs", r"PhantomJS/[0-9.]+" + _VERSION_END),
        ("crios", r"CriOS/[0-9.]+" + _VERSION_END),
        ("firefox", r"Firefox/[0-9.]+(?:\s|$)"),
        ("fxios", r"FxiOS/[0-9.]+"),
        ("opera-mini", r"Opera Mini.*Version/[0-9.]+"),
        ("opera", r"Opera/[0-9.]+(?:\s|$)"),
        ("opera", r"OPR/[0-9.]+" + _VERSION_END),
        ("pie", r"^Microsoft Pocket Internet Explorer/\d+\.\d+$"),
        (
            "pie",
            r"^Mozilla/\d\.\d+\s\(compatible;\s(?:MSP?IE|MSInternet Explorer) \d+\.\d+;.*Windows CE.*\)$",
        ),
        ("netfront", r"^Mozilla/\d\.\d+.*NetFront/\d.\d"),
        ("ie", r"Trident/7\.0.*rv:[0-9.]+.*\).*Gecko$"),
        ("ie", r"MSIE\s[0-9.]+;.*Trident/[4-7].0"),
        ("ie", r"MSIE\s7\.0"),
        ("bb10", r"BB10;\sTouch.*Version/[0-9.]+"),
        ("android", r"Android\s[0-9.]+"),
        ("ios", r"Version/[0-9._]+.*Mobile.*Safari.*"),
        ("safari", r"Version/[0-9._]+.*Safari"),
        ("facebook", r"FB[AS]V/[0-9.]+"),
        ("instagram", r"Instagram\s[0-9.]+"),
        ("ios-webview", r"AppleWebKit/[0-9.]+.*Mobile"),
        ("ios-webview", r"AppleWebKit/[0-9.]+.*Gecko\)$"),
        ("curl", r"^curl/[0-9.]+$"),
        (
            "searchbot",
            (
                r"alexa|bot|crawl(?:er|ing)|facebookexternalhit|feedburner|google web preview"
                r"|nagios|postrank|pingdom|slurp|spider|yahoo!|yandex"
            ),
        ),
    )
]

OS_RULES = [
    (name, re.compile(pattern))
    for name, pattern in (
        ("iOS", r"iP(?:hone|od|ad)"),
        ("Android OS", r"Android"),
        ("BlackBerry OS", r"BlackBerry|BB10"),
        ("Windows Mobile", r"IEMobile"),
        ("Amazon OS", r"Kindle"),
        ("Windows 3.11", r"Win16"),
        ("Windows 95", r"Windows 95|Win95|Windows_95"),
        ("Windows 98", r"Windows 98|Win98"),
        ("Windows 2000", r"Windows NT 5.0|Windows 2000"),
        ("Windows XP", r"Windows NT 5.1|Windows XP"),
        ("Windows Server 2003", r"Windows NT 5.2"),
        ("Windows Vista", r"Windows NT 6.0"),
        ("Windows 7", r"Windows NT 6.1"),
        ("Windows 8", r"Windows NT 6.2"),
        ("Windows 8.1", r"Windows NT 6.3"),
        ("Windows 10", r"Windows NT 10.0"),
        ("Windows ME", r"Windows ME"),
        ("Windows CE", r"Windows CE|WinCE|Microsoft Pocket Internet Explorer"),
        ("Open BSD", r"OpenBSD"),
        ("Sun OS", r"SunOS"),
        ("Chrome OS", r"CrOS"),
        ("Linux", r"Linux|X11"),
        ("Mac OS", r"Mac_PowerPC|Macintosh"),
        ("QNX", r"QNX"),
        ("BeOS", r"BeOS"),
        ("OS/2", r"OS/2"),
    )
]


def browser_name(user_agent: str) -> str | None:
    if not user_agent:
        return None
    return next((name for name, rule in BROWSER_RULES if rule.search(user_agent)), None)


def os_name(user_agent: str) -> str | None:
    if not user_agent:
        return None
    return next((name for name, rule in OS_RULES if rule.search(user_agent)), None)


# ua-parser-js device types that uap-core's device rules identify by family, brand or model.
_TV = re.compile(r"SMART-TV|SmartTV|Chromecast|AppleTV|BRAVIA|^AFT|Roku", re.IGNORECASE)
_CONSOLE = re.compile(r"PlayStation|Nintendo|Xbox")
_WATCH = re.compile(r"^SM-R[0-9]{3}|Watch")
_NO_TYPE = re.compile(r"Opera Mini|Tizen [0-9.]+\)")  # ua-parser-js gives these no type


def device_type(user_agent: str) -> str | None:
    """ua-parser-js's device.type (None for a desktop) from ua-parser's device and OS."""
    if not user_agent:
        return None
    from ua_parser import parse

    result = parse(user_agent)
    device, system = result.device, result.os
    family = device.family if device else ""
    brand = (device.brand or "") if device else ""
    model = (device.model or "") if device else ""
    if _CONSOLE.search(family) or _CONSOLE.search(user_agent):
        return "console"
    if (
        brand == "Generic_Inettv"
        or _TV.search(family)
        or _TV.search(model)
        or "BRAVIA" in user_agent
    ):
        return "smarttv"
    if "Tesla/" in user_agent:
        return "embedded"
    if _NO_TYPE.search(user_agent):
        return None
    if brand == "Spider":
        return "mobile" if model == "Smartphone" else None
    if _WATCH.search(model):
        return "wearable"
    if brand == "Samsung" and model:
        return "tablet" if re.match(r"SM-[TPX]|GT-P", model) else "mobile"
    if family == "iPad" or brand in ("Generic_Android_Tablet", "Amazon") or family == "Kindle":
        return "tablet"
    if family in ("iPhone", "iPod") or (
        system and system.family in ("Windows Phone", "BlackBerry OS")
    ):
        return "mobile"
    if system and system.family == "Android":
        return "mobile" if "Mobile" in user_agent else "tablet"
    return None


def load() -> None:
    """Load ua-parser's rules now (~0.2 s) rather than while the first hit waits."""
    device_type("Mozilla/5.0")


@lru_cache(maxsize=8192)
def describe(user_agent: str) -> tuple[str | None, str | None, str | None]:
    """(browser, os, device type) for a User-Agent; cached, as real traffic repeats few strings."""
    return browser_name(user_agent), os_name(user_agent), device_type(user_agent)


def device(device_type_name: str | None, screen: str | None) -> str:
    """The stored device: the type, else desktop; a desktop whose screen is at most 1920 pixels
    wide is a laptop (Umami's rule)."""
    kind = device_type_name or "desktop"
    if kind == "desktop" and screen:
        width = _js_number(screen.split("x", 1)[0].strip())
        if width is not None and width <= 1920:
            return "laptop"
    return kind


def _js_number(text: str) -> float | None:
    # `+width` in JavaScript: '' is 0, surrounding whitespace allowed, otherwise a plain number.
    if text == "":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) else value
