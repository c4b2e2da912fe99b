"""The report tests' dataset: the designed traffic sent through /api/send (and performance beacons)
to a database of its own per engine, with a segment and a cohort saved, and the selections —
filters, segment, cohort — every report is checked under."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from katsuo.config import Settings
from katsuo.services import Services
from tests.analytics.conftest import send
from tests.analytics.model import Model, at, ms
from tests.conftest import WITH_CLICKHOUSE, make_env
from tests.helpers import admin_with_website, report_body
from tests.reports import traffic
from tests.reports.model import NONE, Reports, Selection

COHORT_START, COHORT_END = at("2026-03-27 00:00:00"), at("2026-03-31 23:59:59.999")


def send_beacon(client, website_id: str, beacon: traffic.Beacon) -> None:
    v = beacon.visitor
    headers = {
        "User-Agent": v.user_agent,
        "X-Forwarded-For": v.ip,
        "CF-IPCountry": v.country,
        "CF-Region-Code": v.region,
        "CF-IPCity": v.city,
    }
    payload = {
        "website": website_id,
        "url": beacon.url,
        "title": beacon.title,
        "timestamp": int(beacon.at.timestamp()),
        "browser": v.browser,
        "os": v.os,
        "device": v.device,
        "screen": v.screen,
        "language": v.language,
        **({"id": v.distinct_id} if v.distinct_id else {}),
        **beacon.metrics,
    }
    response = client.post(
        "/api/send", json={"type": "performance", "payload": payload}, headers=headers
    )
    assert response.status_code == 200, response.text


@dataclass
class ReportsData:
    client: object
    token: str
    website: str
    expect: Reports
    selections: dict  # name -> (request filters, model Selection)
    segment_id: str
    cohort_id: str
    services: Services

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def body(
        self, report_type: str, start=traffic.START, end=traffic.END, filters=None, **parameters
    ) -> dict:
        return report_body(self.website, report_type, start, end, filters, **parameters)

    def run(self, report_type: str, expect: int = 200, path: str | None = None, **kwargs):
        response = self.client.post(
            path or f"/api/reports/{report_type}",
            json=self.body(report_type, **kwargs),
            headers=self.headers,
        )
        assert response.status_code == expect, response.text
        return response.json()


@pytest.fixture(scope="session", params=WITH_CLICKHOUSE)
def engine(request) -> str:
    return request.param


@pytest.fixture(scope="package")
def data(engine, request, tmp_path_factory):
    from fastapi.testclient import TestClient

    from katsuo.app import create_app

    settings = Settings.from_env(make_env(engine, request, tmp_path_factory))
    services = Services.start(settings)
    hits, beacons = traffic.hits(), traffic.beacons()
    with TestClient(create_app(settings, services)) as client:
        token, website = admin_with_website(client, "Reports")
        headers = {"Authorization": f"Bearer {token}"}
        for hit in hits:
            send(client, website, hit)
        for beacon in beacons:
            send_beacon(client, website, beacon)
        segment = client.post(
            f"/api/websites/{website}/segments",
            headers=headers,
            json={
                "type": "segment",
                "name": "Desktop or US",
                "parameters": {
                    "match": "any",
                    "filters": [
                        {"name": "device", "operator": "eq", "value": "desktop"},
                        {"name": "country", "operator": "eq", "value": "US"},
                    ],
                },
            },
        ).json()["id"]
        cohort = client.post(
            f"/api/websites/{website}/segments",
            headers=headers,
            json={
                "type": "cohort",
                "name": "Saw pricing in March",
                "parameters": {
                    "filters": [],
                    "action": {"type": "path", "value": "/pricing"},
                    "dateRange": f"range:{ms(COHORT_START)}:{ms(COHORT_END)}",
                },
            },
        ).json()["id"]
        model = Model(hits + beacons, {"main": website})
        cohort_sessions = frozenset(
            h.session
            for h in model.select(COHORT_START, COHORT_END, types=None)
            if h.path == "/pricing"
        )
        selections = {
            "none": ({}, NONE),
            "country": ({"country": "US"}, Selection({"country": ("eq", "US")})),
            "path": ({"path": "c.pricing"}, Selection({"path": ("c", "pricing")})),
            "segment": (
                {"segment": segment},
                Selection({"device": ("eq", "desktop"), "country": ("eq", "US")}, "any"),
            ),
            "cohort": ({"cohort": cohort}, Selection(cohort=cohort_sessions)),
        }
        yield ReportsData(
            client, token, website, Reports(model), selections, segment, cohort, services
        )
    services.close()


SELECTIONS = ["none", "country", "path", "segment", "cohort"]
