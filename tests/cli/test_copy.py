"""`katsuo copy`: hits sent through /api/send on an embedded database, copied DuckDB → PostgreSQL
→ DuckDB and DuckDB → ClickHouse (chdb), answer the dashboard's endpoints as the original did; an
interrupted copy resumes; a target holding data is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from katsuo.app import create_app
from katsuo.config import Settings
from katsuo.ops import copy
from katsuo.ops.stores import OperatorError, store_settings
from katsuo.services import Services
from katsuo.store import schema
from tests.cli.test_cli import SOURCE
from tests.collect.conftest import UA
from tests.conftest import make_env
from tests.helpers import Api

SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Safari/605.1.15"
)
BROWSERS = [UA, SAFARI]


def _send(client, website: str, visitor: int, payload: dict) -> None:
    response = client.post(
        "/api/send",
        json={
            "type": "event",
            "payload": {"website": website, "hostname": "example.com", **payload},
        },
        headers={
            "User-Agent": BROWSERS[visitor % 2],
            "X-Forwarded-For": f"203.0.113.{visitor + 1}",
        },
    )
    assert response.status_code == 200, response.text


def answers(client, website: str) -> dict:
    """What the dashboard asks of the website's data, as the logged-in administrator."""
    admin = Api(client).admin()
    now = datetime.now(UTC)
    window = {
        "startAt": int((now - timedelta(days=1)).timestamp() * 1000),
        "endAt": int((now + timedelta(hours=1)).timestamp() * 1000),
    }
    base = f"/api/websites/{website}"
    result = {
        "stats": admin.ok("GET", f"{base}/stats", params=window),
        "pageviews": admin.ok(
            "GET", f"{base}/pageviews", params={**window, "unit": "hour", "timezone": "UTC"}
        ),
        "sessions": sorted(
            (s["id"], s["views"], s["browser"])
            for s in admin.ok("GET", f"{base}/sessions", params={**window, "pageSize": 100})["data"]
        ),
        "website": admin.ok("GET", base)["name"],
    }
    for kind in ("path", "browser", "event", "referrer"):
        result[kind] = admin.ok("GET", f"{base}/metrics", params={**window, "type": kind})
    return result


@pytest.fixture(scope="module")
def source(request, tmp_path_factory):
    """An embedded database with a website, a team and a little traffic; its answers before any
    copy. The server is stopped before the tests copy it (DuckDB allows one process)."""
    env = make_env("duckdb", request, tmp_path_factory)
    settings = Settings.from_env(env)
    svc = Services.start(settings)
    with TestClient(create_app(settings, svc)) as client:
        admin = Api(client).admin()
        website = admin.new_website("Copied", "example.com")["id"]
        admin.new_team("Copied team")
        for visitor in range(6):
            for page in range(visitor % 3 + 1):
                _send(
                    client,
                    website,
                    visitor,
                    {"url": f"/page-{page}", "referrer": "https://news.example.org/"},
                )
            if visitor % 2:
                _send(
                    client,
                    website,
                    visitor,
                    {
                        "url": "/buy",
                        "name": "purchase",
                        "data": {"revenue": 12.5, "currency": "USD"},
                    },
                )
        expected = answers(client, website)
    assert len(expected["sessions"]) == 6 and expected["browser"]
    svc.close()
    return {"env": env, "website": website, "expected": expected}


def _answers_of(env: dict, website: str) -> dict:
    settings = Settings.from_env(env)
    svc = Services.start(settings)
    try:
        with TestClient(create_app(settings, svc)) as client:
            return answers(client, website)
    finally:
        svc.close()


def _duckdb(env: dict) -> str:
    return "duckdb://" + env["KATSUO_DATA_DIR"]


def _assert_indexes_back(url: str) -> None:
    """The indexes a copy sets aside during its load are all back, its bookkeeping gone."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        for table in (schema.website_event, schema.session):
            held = set(
                conn.execute(
                    sa.text("SELECT indexname FROM pg_indexes WHERE tablename = :t"),
                    {"t": table.name},
                ).scalars()
            )
            assert {index.name for index in table.indexes} <= held
        assert not sa.inspect(conn).has_table("katsuo_copy_index")
    engine.dispose()


def test_duckdb_to_postgresql_and_back(source, request, tmp_path_factory):
    postgres = make_env("postgresql", request, tmp_path_factory)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "katsuo",
            "copy",
            "--from",
            _duckdb(source["env"]),
            "--to",
            postgres["DATABASE_URL"],
            "--batch-rows",
            "7",
        ],
        env={**os.environ, "PYTHONPATH": SOURCE},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "website_event" in result.stdout and "MISMATCH" not in result.stdout
    assert _answers_of(postgres, source["website"]) == source["expected"]
    _assert_indexes_back(postgres["DATABASE_URL"])

    back = make_env("duckdb", request, tmp_path_factory)
    counts = copy.copy(
        store_settings(postgres["DATABASE_URL"]), store_settings(_duckdb(back)), progress=False
    )
    assert all(count.matches for count in counts)
    assert {c.table: c.source for c in counts}["website_event"] == 15
    assert _answers_of(back, source["website"]) == source["expected"]


def test_duckdb_to_clickhouse(source, request, tmp_path_factory):
    target = make_env("clickhouse", request, tmp_path_factory)
    counts = copy.copy(
        store_settings(_duckdb(source["env"])),
        store_settings(_duckdb(target), target["CLICKHOUSE_URL"], option="--to"),
        progress=False,
    )
    assert all(count.matches for count in counts)
    assert _answers_of(target, source["website"]) == source["expected"]


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_an_interrupted_copy_resumes_and_a_full_target_is_refused(
    engine, source, request, tmp_path_factory, monkeypatch
):
    target = make_env(engine, request, tmp_path_factory)
    url = target["DATABASE_URL"] if engine == "postgresql" else _duckdb(target)
    from_, to = store_settings(_duckdb(source["env"])), store_settings(url)
    recorded = copy._record
    event_batches = iter(range(3))

    def stop_in_the_events(conn, table, *args, **kwargs):
        # Interrupted while the 4th batch of events is in its transaction, not yet committed.
        if table == "website_event" and next(event_batches, None) is None:
            raise KeyboardInterrupt
        recorded(conn, table, *args, **kwargs)

    monkeypatch.setattr(copy, "_record", stop_in_the_events)
    with pytest.raises(KeyboardInterrupt):
        copy.copy(from_, to, batch_rows=4, progress=False)
    monkeypatch.setattr(copy, "_record", recorded)

    with pytest.raises(OperatorError, match="--resume"):
        copy.copy(from_, to, progress=False)
    counts = copy.copy(from_, to, resume=True, batch_rows=4, progress=False)
    assert all(count.matches for count in counts)
    if engine == "postgresql":
        _assert_indexes_back(url)
    assert _answers_of(target, source["website"]) == source["expected"]

    with pytest.raises(OperatorError, match="already holds data"):
        copy.copy(from_, to, progress=False)
    with pytest.raises(OperatorError, match="nothing to resume"):
        copy.copy(from_, to, resume=True, progress=False)


@pytest.mark.parametrize("url", ["mysql://db/x", "duckdb:", "duckdb:///srv/other.duckdb"])
def test_bad_urls_are_named(url):
    with pytest.raises(OperatorError, match="--from"):
        store_settings(url)
