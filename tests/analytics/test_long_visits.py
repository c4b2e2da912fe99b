"""A visit kept alive over three days (a client resending its cache token with back-dated hits):
the visit slices' journey row spans all three days, so retention must read that visit from its
events (its middle day has no first or last event), and the journey is still one visit's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from katsuo.analytics import slices
from katsuo.config import Settings
from katsuo.services import Services
from tests.conftest import make_env
from tests.helpers import admin_with_website, post_report

pytestmark = pytest.mark.slices

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
HITS = [  # one visitor, one visit: (UTC time, path)
    (datetime(2026, 2, 10, 10, 0, tzinfo=UTC), "/a"),
    (datetime(2026, 2, 11, 12, 0, tzinfo=UTC), "/b"),
    (datetime(2026, 2, 12, 14, 0, tzinfo=UTC), "/c"),
]
START, END = datetime(2026, 2, 10, tzinfo=UTC), datetime(2026, 2, 12, 23, 59, 59, tzinfo=UTC)


@pytest.fixture(scope="module")
def long_visit(engine, request, tmp_path_factory):
    from fastapi.testclient import TestClient

    from katsuo.app import create_app

    settings = Settings.from_env(make_env(engine, request, tmp_path_factory))
    services = Services.start(settings)
    with TestClient(create_app(settings, services)) as client:
        token, website = admin_with_website(client, "Long visits")
        cache, visits = None, set()
        for at, path in HITS:
            payload = {"website": website, "url": path, "timestamp": int(at.timestamp())}
            headers = {"User-Agent": UA, "X-Forwarded-For": "81.2.69.61"}
            if cache:
                headers["x-umami-cache"] = cache
            response = client.post(
                "/api/send", json={"type": "event", "payload": payload}, headers=headers
            )
            assert response.status_code == 200, response.text
            cache = response.json()["cache"]
            visits.add(response.json()["visitId"])
        assert len(visits) == 1, "the cache token keeps the visit"
        slices.rebuild(services.db)

        yield lambda report_type, **parameters: post_report(
            client, token, website, report_type, START, END, **parameters
        )
    services.close()


def test_retention_counts_the_middle_day(long_visit):
    body = long_visit("retention")
    assert [(row["date"], row["day"], row["visitors"], row["returnVisitors"]) for row in body] == [
        ("2026-02-10T00:00:00Z", 0, 1, 1),
        ("2026-02-10T00:00:00Z", 1, 1, 1),
        ("2026-02-10T00:00:00Z", 2, 1, 1),
    ]


def test_journey_is_one_visit(long_visit):
    # Three steps of seven: the absent slots collapse to one null, as in Umami.
    assert long_visit("journey", steps=3) == [{"items": ["/a", "/b", "/c", None], "count": 1}]
