"""The analytics tests' dataset: the designed traffic sent through /api/send to a fresh database,
read back in three states of the visit slices — `pending` (slices built from the first batch,
the later batch only pending), `settled` (everything folded in) and `raw` (slices ignored, the
queries over Umami's tables answer) — on DuckDB and PostgreSQL; with the events in ClickHouse (chdb) only `raw`, as it keeps no slices
(tests/conftest.py leaves the other states out there)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from katsuo.analytics import slices
from katsuo.store import schema
from tests.analytics import traffic
from tests.analytics.model import Hit, Model, ms
from tests.conftest import WITH_CLICKHOUSE, empty_database
from tests.helpers import admin_with_website, post_report


def send(client, website_id: str, hit: Hit):
    v = hit.visitor
    headers = {"User-Agent": v.user_agent, "X-Forwarded-For": v.ip}
    if v.country:
        headers.update({"CF-IPCountry": v.country, "CF-Region-Code": v.region, "CF-IPCity": v.city})
    payload = {
        "website": website_id,
        "url": hit.url,
        "hostname": hit.hostname,
        "language": v.language,
        "screen": v.screen,
        "timestamp": int(hit.at.timestamp()),
        "browser": v.browser,
        "os": v.os,
        "device": v.device,
    }
    if v.distinct_id:
        payload["id"] = v.distinct_id
    if hit.identify is not None:
        payload["data"] = hit.identify
        body = {"type": "identify", "payload": payload}
    else:
        payload.update({"title": hit.title, "referrer": hit.referrer or ""})
        for key in ("name", "data", "tag"):
            if getattr(hit, key) is not None:
                payload[key] = getattr(hit, key)
        body = {"type": "event", "payload": payload}
    response = client.post("/api/send", json=body, headers=headers)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="session", params=WITH_CLICKHOUSE)
def engine(request) -> str:
    return request.param


@dataclass
class Dataset:
    client: object
    token: str
    model: Model
    website: str
    state: str
    services: object

    def get(self, url: str, expect: int = 200, **params):
        params = {k: v for k, v in params.items() if v is not None}
        response = self.client.get(
            url, params=params, headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == expect, (
            f"{url} {params} -> {response.status_code} {response.text}"
        )
        return response.json()

    def report(self, report_type: str, start, end, filters=None, website=None, **parameters):
        """POST /api/reports/<type> for the range, with the report's own parameters."""
        return post_report(
            self.client,
            self.token,
            website or self.website,
            report_type,
            start,
            end,
            filters,
            **parameters,
        )

    def stats_path(self, endpoint: str, website: str | None = None) -> str:
        return f"/api/websites/{website or self.website}/{endpoint}"

    def range(self, start=None, end=None) -> dict:
        return {"startAt": ms(start or traffic.START), "endAt": ms(end or traffic.END)}


STATES = ["pending", "settled", "raw"]


@pytest.fixture(scope="module", params=STATES)
def dataset(request, services):
    from fastapi.testclient import TestClient

    from katsuo.app import create_app

    empty_database(services)
    app = create_app(services.settings, services)
    with TestClient(app) as client:
        token, website = admin_with_website(client, "Main")
        first, later = traffic.first_batch(), traffic.later_batch()
        for hit in first:
            send(client, website, hit)
        if not services.db.separate_events:
            slices.rebuild(services.db)
        for hit in later:
            send(client, website, hit)
        if request.param == "settled":
            assert slices.settle(services.db) > 0
        elif request.param == "raw":
            with services.db.begin() as conn:
                slices.mark_stale(conn)
        if not services.db.separate_events:
            with services.db.connect() as conn:
                pending = conn.execute(
                    sa.select(sa.func.count()).select_from(schema.slice_pending)
                ).scalar_one()
            assert (pending > 0) == (request.param != "settled")
        yield Dataset(
            client, token, Model(first + later, {"main": website}), website, request.param, services
        )
