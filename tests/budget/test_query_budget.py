"""Every analytics request has a budget: a time limit the engine enforces (503 + Retry-After),
cancellation when the client goes away, and a bounded number of requests at once per user, per
share and per server (429 / 503 + Retry-After). Live servers over real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest

from katsuo.api.admission import QUEUE_SECONDS
from tests.budget.conftest import (
    add_events,
    locked,
    revenue_body,
    running_queries,
    share_headers,
    wait_until,
)
from tests.conftest import ENGINES, WITH_CLICKHOUSE


def _error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code and response.json()["error"]["status"] == status


@pytest.mark.parametrize("engine", ENGINES)
def test_a_query_beyond_its_budget_answers_503_and_stops(live_server, engine):
    """DuckDB: a report over a million events with a budget of 50 ms is interrupted. PostgreSQL:
    a report waiting on a locked table is stopped at its budget and is no longer running. With a
    regular-expression filter, the timeout is no "invalid regular expression"."""
    live = live_server(engine, KATSUO_QUERY_TIMEOUT="0.05" if engine == "duckdb" else "0.5")
    website = live.new_website()
    body = {**revenue_body(website), "filters": {"path": "re.^/p"}}
    with live.client() as http:
        if engine == "duckdb":
            add_events(live.services, website, 1_000_000)
            response = http.post("/api/reports/revenue", json=body, headers=live.headers)
        else:
            with locked(live, "revenue"):
                response = http.post("/api/reports/revenue", json=body, headers=live.headers)
                assert running_queries(live, "FROM revenue") == 0
        _error(response, 503, "query-timeout")
        assert response.headers["retry-after"] == "1"
        # The connection went back to the pool in working order.
        assert (
            http.get(f"/api/websites/{website}/daterange", headers=live.headers).status_code == 200
        )


def test_a_client_that_goes_away_cancels_its_query(live_server):
    live = live_server("postgresql", KATSUO_QUERY_TIMEOUT="60")
    website = live.new_website()
    host, port = live.base.removeprefix("http://").split(":")
    body = orjson.dumps(revenue_body(website))
    with locked(live, "revenue"):
        client = socket.create_connection((host, int(port)))
        client.sendall(
            b"POST /api/reports/revenue HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {live.token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert wait_until(lambda: running_queries(live, "FROM revenue") == 1, 10), (
            "the query never started"
        )
        client.close()
        # Still locked: only a cancel can end the statement.
        assert wait_until(lambda: running_queries(live, "FROM revenue") == 0, 2), (
            "the query kept running"
        )


def _parallel(count: int, send) -> list:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda i: send(i), range(count)))


@pytest.mark.parametrize("who", ["user", "share"])
def test_one_user_or_share_runs_a_bounded_number_of_requests(live_server, who):
    """Three slow requests with a limit of two: the third waits for a slot, then answers 429 with
    Retry-After while the two others still hold theirs; those run once the lock is gone. The
    share's requests use two tokens resolved from its slug: the share counts, not the token."""
    live = live_server("postgresql", KATSUO_QUERY_CONCURRENCY="2", KATSUO_QUERY_TIMEOUT="30")
    website = live.new_website()
    if who == "user":
        headers = [live.headers] * 3
    else:
        _share_id, first = live.share_token(website)
        time.sleep(1.1)  # a token issued in another second
        second = live.resolve(_slug(live, website))
        assert first != second
        headers = [share_headers(first), share_headers(first), share_headers(second)]

    def send(i):
        with live.client() as http:
            return http.post("/api/reports/revenue", json=revenue_body(website), headers=headers[i])

    results: list = []
    with locked(live, "revenue"):
        thread = threading.Thread(target=lambda: results.extend(_parallel(2, send)))
        thread.start()
        assert wait_until(lambda: running_queries(live, "FROM revenue") == 2, 10)
        started = time.monotonic()
        results.append(send(2))  # queued for a slot that never frees while the lock is held
        assert QUEUE_SECONDS <= time.monotonic() - started < QUEUE_SECONDS + 5
        assert running_queries(live, "FROM revenue") == 2
    thread.join(30)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 200, 429], [r.text for r in results]
    refused = next(r for r in results if r.status_code == 429)
    _error(refused, 429, "too-many-queries")
    assert refused.headers["retry-after"] == "1"


def test_a_request_over_the_limit_waits_for_a_slot(live_server):
    """With a limit of one, a second request that comes while the first runs is not refused: it
    waits, and runs as soon as the first ends (within the queue's few seconds)."""
    live = live_server("postgresql", KATSUO_QUERY_CONCURRENCY="1", KATSUO_QUERY_TIMEOUT="30")
    website = live.new_website()

    def send(_):
        with live.client() as http:
            return http.post(
                "/api/reports/revenue", json=revenue_body(website), headers=live.headers
            )

    with ThreadPoolExecutor(2) as pool:
        with locked(live, "revenue"):
            first = pool.submit(send, 0)
            assert wait_until(lambda: running_queries(live, "FROM revenue") == 1, 10)
            second = pool.submit(send, 1)
            time.sleep(QUEUE_SECONDS / 4)
            assert running_queries(live, "FROM revenue") == 1 and not second.done()
        assert first.result(30).status_code == 200
        assert second.result(30).status_code == 200, second.result().text


def _slug(live, website) -> str:
    with live.client() as http:
        return http.get(f"/api/websites/{website}/shares", headers=live.headers).json()["data"][0][
            "slug"
        ]


def test_the_server_runs_a_bounded_number_of_requests(live_server):
    """Beyond KATSUO_QUERY_CONCURRENCY_TOTAL a request answers 503 server-busy with Retry-After,
    whoever sends it."""
    live = live_server("postgresql", KATSUO_QUERY_CONCURRENCY_TOTAL="1", KATSUO_QUERY_TIMEOUT="30")
    website = live.new_website()
    _, token = live.share_token(website)
    results: list = []

    def slow():
        with live.client() as http:
            results.append(
                http.post("/api/reports/revenue", json=revenue_body(website), headers=live.headers)
            )

    with locked(live, "revenue"):
        thread = threading.Thread(target=slow)
        thread.start()
        assert wait_until(lambda: running_queries(live, "FROM revenue") == 1, 10)
        with live.client() as other:
            busy = other.get(
                f"/api/websites/{website}/stats",
                params={"startAt": 0, "endAt": 1},
                headers=share_headers(token),
            )
    thread.join(30)
    _error(busy, 503, "server-busy")
    assert busy.headers["retry-after"] == "1"
    assert results[0].status_code == 200


def test_pool_ceiling_is_checked_at_start(tmp_path):
    from katsuo.config import ConfigError, Settings
    from katsuo.services import Services

    settings = Settings.from_env(
        {
            "APP_SECRET": "x",
            "KATSUO_DATA_DIR": str(tmp_path),
            "KATSUO_QUERY_CONCURRENCY_TOTAL": "13",
        }
    )
    with pytest.raises(ConfigError, match="KATSUO_QUERY_CONCURRENCY_TOTAL must be at most 12"):
        Services.start(settings)


@pytest.mark.parametrize("engine", ENGINES)
def test_one_share_flooding_reports_does_not_starve_another_tenant(live_server, engine):
    """Thirty expensive reports at once through one share token: two run at a time (each stopped
    at the budget), most answer 429 after a short wait; meanwhile another user's overview answers
    200."""
    live = live_server(
        engine,
        KATSUO_QUERY_TIMEOUT="3",
        KATSUO_QUERY_CONCURRENCY="2",
        KATSUO_QUERY_CONCURRENCY_TOTAL="4",
    )
    busy_site = live.new_website("Busy")
    add_events(live.services, busy_site, 1_000_000 if engine == "duckdb" else 200_000)
    _, token = live.share_token(busy_site)
    quiet_site = live.new_website("Quiet")
    add_events(live.services, quiet_site, 500)

    def flood(i):
        with live.client() as http:
            return http.post(
                "/api/reports/revenue", json=revenue_body(busy_site), headers=share_headers(token)
            )

    flooding: list = []
    thread = threading.Thread(target=lambda: flooding.extend(_parallel(30, flood)))
    thread.start()
    overview = []
    with live.client() as http:
        for path in ("stats", "pageviews", "metrics"):
            overview.append(
                http.get(
                    f"/api/websites/{quiet_site}/{path}",
                    params={
                        "startAt": 1772323200000,
                        "endAt": 1772409599999,
                        "unit": "hour",
                        "type": "path",
                    },
                    headers=live.headers,
                )
            )
    thread.join(60)
    assert [r.status_code for r in overview] == [200, 200, 200], [r.text for r in overview]
    assert overview[0].json()["pageviews"] == 500
    statuses = [r.status_code for r in flooding]
    # Two at a time, each waiting at most a couple of seconds for a slot: the flood cannot all run.
    assert statuses.count(429) >= 1 and set(statuses) <= {200, 429, 503}, statuses


@pytest.mark.parametrize("engine", WITH_CLICKHOUSE)
@pytest.mark.parametrize("param", ["path", "title"])
def test_an_invalid_regular_expression_is_the_clients_mistake(live_server, engine, param):
    live = live_server(engine)
    website = live.new_website()
    _send(live, website)
    with live.client() as http:
        for path in ("stats", "metrics"):
            response = http.get(
                f"/api/websites/{website}/{path}",
                headers=live.headers,
                params={
                    "startAt": 1772323200000,
                    "endAt": 1772409599999,
                    "type": "path",
                    param: "re.(unclosed",
                },
            )
            assert response.status_code == 400, response.text
            assert response.json()["error"]["message"] == f"{param}: invalid regular expression"
        report = http.post(
            "/api/reports/revenue",
            headers=live.headers,
            json={**revenue_body(website), "filters": {param: "re.(unclosed"}},
        )
        assert report.status_code == 400, report.text


def _send(live, website) -> None:
    """A page view and a custom event, both with a path and a title for the pattern to meet."""
    user_agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    with live.client() as http:
        for extra in ({}, {"name": "signup"}):
            payload = {
                "website": website,
                "url": "/p1",
                "title": "One",
                "hostname": "example.com",
                "timestamp": 1772330000,
                **extra,
            }
            response = http.post(
                "/api/send",
                json={"type": "event", "payload": payload},
                headers={"User-Agent": user_agent, "X-Forwarded-For": "203.0.113.9"},
            )
            assert response.status_code == 200, response.text
