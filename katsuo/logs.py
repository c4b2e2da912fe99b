"""Logging from DEBUG and LOG_QUERY: Umami's debug namespaces mapped onto Katsuo's loggers."""

from __future__ import annotations

import logging

from katsuo.config import Settings

# DEBUG=umami:<area> (Umami's names) or katsuo:<area>; `*` enables every area.
_AREAS = {
    "auth": "katsuo.auth",
    "prisma": "katsuo.sql",
    "clickhouse": "katsuo.sql",
    "sql": "katsuo.sql",
    "middleware": "katsuo.api",
    "api": "katsuo.api",
    "collect": "katsuo.collect",
    "analytics": "katsuo.analytics",
}


def debug_loggers(value: str) -> set[str]:
    names: set[str] = set()
    for item in value.replace(",", " ").split():
        scope, _, area = item.partition(":")
        if item == "*" or (scope in ("umami", "katsuo") and area == "*"):
            names.add("katsuo")
        elif scope in ("umami", "katsuo") and area in _AREAS:
            names.add(_AREAS[area])
        elif scope == "katsuo" and area:
            names.add(f"katsuo.{area}")
    return names


def logs_queries(settings: Settings) -> bool:
    """LOG_QUERY, or a DEBUG value that covers SQL (`umami:prisma`, `umami:*`, …)."""
    return settings.log_query or bool(debug_loggers(settings.debug) & {"katsuo", "katsuo.sql"})


def configure(settings: Settings) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in debug_loggers(settings.debug):
        logging.getLogger(name).setLevel(logging.DEBUG)
    # Statements are logged at INFO, so LOG_QUERY shows them without the rest of DEBUG's output.
    logging.getLogger("katsuo.sql").setLevel(
        logging.INFO if logs_queries(settings) else logging.WARNING
    )
