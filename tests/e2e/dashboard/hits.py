"""Hits a dashboard test sends itself through /api/send, so it knows every number to expect."""

from __future__ import annotations

import time

from tests.e2e.conftest import wait_until

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


def send(
    api,
    website_id: str,
    *,
    ip: str,
    url: str,
    event: str | None = None,
    data: dict | None = None,
    at: int | None = None,
    hostname: str = "shop.example",
    country: str | None = None,
) -> None:
    """One page view (or, with `event`, one custom event) by the visitor at `ip`, at the Unix
    second `at` (now by default), from `country` (a CDN's geo header) when given."""
    payload = {"website": website_id, "hostname": hostname, "url": url, "language": "en-US"}
    payload["timestamp"] = at or int(time.time())
    if event:
        payload.update(name=event, data=data or {})
    response = api.client.post(
        "/api/send",
        json={"type": "event", "payload": payload},
        headers={"User-Agent": CHROME, "X-Forwarded-For": ip}
        | ({"cf-ipcountry": country} if country else {}),
    )
    assert response.status_code == 200, response.text


def wait_for_views(api, website_id: str, views: int) -> None:
    """Until the server counts `views` page views in the last 30 days (hits land in batches)."""
    now = int(time.time() * 1000)
    params = {"startAt": now - 30 * 86_400_000, "endAt": now + 60_000}
    wait_until(
        lambda: (
            api.ok("GET", f"/api/websites/{website_id}/stats", params=params)["pageviews"] == views
        ),
        what=f"{views} page views",
    )
