"""What a share token may read: the one table of the API routes open to share tokens, each with
the dashboard section (a key of the share's `parameters`) it belongs to (docs/shares.md).

A route missing from the table is closed to share tokens whatever the share publishes: saved
reports, segments and cohorts, share lists, users, teams, and every change.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

OVERVIEW = "overview"
# The keys of Umami's share editor, in its order.
SECTIONS = (
    OVERVIEW,
    "events",
    "sessions",
    "realtime",
    "performance",
    "compare",
    "breakdown",
    "goals",
    "funnels",
    "journeys",
    "retention",
    "utm",
    "revenue",
    "attribution",
)
# The section of each report type that `POST /api/reports/<type>` runs.
REPORT_SECTIONS = {
    "attribution": "attribution",
    "breakdown": "breakdown",
    "funnel": "funnels",
    "goal": "goals",
    "journey": "journeys",
    "performance": "performance",
    "retention": "retention",
    "revenue": "revenue",
    "utm": "utm",
}

_W = "/api/websites/{website_id}"


def _reads(section: str, *paths: str) -> dict[tuple[str, str], str]:
    return {("GET", path): section for path in paths}


ROUTE_SECTIONS: dict[tuple[str, str], str] = {
    # The entity itself and its overview numbers (`compare` only changes their query).
    **_reads(
        OVERVIEW,
        _W,
        "/api/links/{entity_id}",
        "/api/pixels/{entity_id}",
        f"{_W}/active",
        f"{_W}/stats",
        f"{_W}/pageviews",
        f"{_W}/metrics",
        f"{_W}/metrics/expanded",
        f"{_W}/daterange",
        f"{_W}/values",
        f"{_W}/export",
        f"{_W}/chart",
    ),
    **_reads(
        "events",
        f"{_W}/events",
        f"{_W}/events/series",
        f"{_W}/events/stats",
        f"{_W}/event-data",
        f"{_W}/event-data/events",
        f"{_W}/event-data/fields",
        f"{_W}/event-data/properties",
        f"{_W}/event-data/values",
        f"{_W}/event-data/stats",
        f"{_W}/event-data/{{event_id}}",
    ),
    **_reads(
        "sessions",
        f"{_W}/sessions",
        f"{_W}/sessions/stats",
        f"{_W}/sessions/weekly",
        f"{_W}/sessions/{{session_id}}",
        f"{_W}/sessions/{{session_id}}/activity",
        f"{_W}/sessions/{{session_id}}/properties",
        f"{_W}/session-data/properties",
        f"{_W}/session-data/values",
    ),
    **_reads("realtime", "/api/realtime/{website_id}"),
    **{
        ("POST", f"/api/reports/{report_type}"): section
        for report_type, section in REPORT_SECTIONS.items()
    },
    ("POST", "/api/reports/goals"): "goals",
}


def section_of(request: Request, base_path: str) -> str | None:
    """The section of the route serving `request`, or None when share tokens may not use it."""
    path = getattr(request.scope.get("route"), "path", "").removeprefix(base_path)
    return ROUTE_SECTIONS.get((request.method, path))


def publishes(parameters: Any, section: str) -> bool:
    """Whether a share with these `parameters` publishes `section`: the overview always, any other
    section when its key is exactly `true` (as Umami's share page reads them)."""
    return section == OVERVIEW or (isinstance(parameters, dict) and parameters.get(section) is True)
