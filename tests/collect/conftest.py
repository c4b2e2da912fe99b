"""Fixtures of the collect tests: a website to send hits to, an app with extra settings, and a
way to read back what was stored."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from katsuo.collect.rows import EventRow
from katsuo.config import Settings
from katsuo.store import schema

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"


@pytest.fixture
def website(api):
    return api.admin().new_website(domain="example.com")["id"]


@pytest.fixture
def stored(services):
    """stored(table, **where) -> list of row dicts."""

    def read(table: str, **where) -> list[dict]:
        t = schema.metadata.tables[table]
        stmt = sa.select(t).where(*(t.c[k] == v for k, v in where.items()))
        with services.db.connect() as conn:
            return [dict(row) for row in conn.execute(stmt).mappings()]

    return read


@pytest.fixture
def client_with(services):
    """client_with(**env) -> a TestClient whose settings add these environment variables."""
    from fastapi.testclient import TestClient

    from katsuo.app import create_app
    from katsuo.collect.collector import Collector

    opened = []

    def make(**env):
        base = services.settings.model_dump()
        extra = Settings.from_env({"APP_SECRET": services.settings.app_secret, **env})
        changed = {
            k: getattr(extra, k)
            for k in base
            if base[k] != getattr(extra, k) and k not in ("data_dir", "database_url", "app_secret")
        }
        settings = services.settings.model_copy(update=changed)
        collector = Collector(settings, services.writer, services.collector.websites, services.geo)
        copy = dataclasses.replace(services, settings=settings, collector=collector)
        client = TestClient(create_app(settings, copy))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def send(
    client, payload: dict, *, type: str = "event", headers: dict | None = None, path="/api/send"
):
    return client.post(
        path, json={"type": type, "payload": payload}, headers={"User-Agent": UA, **(headers or {})}
    )


def event_row(website_id: str, path: str) -> EventRow:
    """A page view of a new visitor, as the collector would make it."""
    return EventRow(
        str(uuid.uuid4()),
        website_id,
        str(uuid.uuid4()),
        str(uuid.uuid4()),
        datetime.now(UTC),
        path,
        "",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        1,
        None,
        None,
        "example.com",
        None,
        None,
        None,
        None,
        None,
    )
