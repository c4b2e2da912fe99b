"""Against a live uvicorn server: an unexpected error is one JSON 500 and one logged traceback, and
the kept-alive connection goes on serving; a client that goes away in the middle of its body is no
error (one DEBUG line, nothing at ERROR), on every route that reads a body; on both engines."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time

import pytest

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
SERVER_ERROR = {"error": {"message": "Server error", "code": "server-error", "status": 500}}


@pytest.fixture
def live(app):
    """(host, port) of `app` served by uvicorn in a thread, with a test-only route that fails."""
    import uvicorn

    async def broken():
        raise RuntimeError("route broke on purpose")

    app.add_api_route("/api/test-broken", broken, methods=["GET"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="info", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the live server did not start"
        time.sleep(0.02)
    yield sock.getsockname()
    server.should_exit = True
    thread.join(10)
    sock.close()


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None = None):
    headers = {"User-Agent": UA}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def _errors(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_500_keeps_the_connection_and_logs_once(live, app, caplog):
    conn = http.client.HTTPConnection(*live, timeout=10)
    with caplog.at_level(logging.INFO):
        response, body = _request(conn, "GET", "/api/test-broken")
        assert response.status == 500 and json.loads(body) == SERVER_ERROR
        assert response.getheader("access-control-allow-origin") == "*"
        assert (response.getheader("connection") or "").lower() != "close"
        local = conn.sock.getsockname()
        again, body = _request(conn, "GET", "/api/heartbeat")
        assert again.status == 200 and json.loads(body) == {"ok": True}
        assert conn.sock.getsockname() == local  # the same connection, not a new one
        time.sleep(0.2)
    errors = _errors(caplog)
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].exc_info and "route broke on purpose" in str(errors[0].exc_info[1])
    conn.close()


def test_a_500_on_the_collect_path_keeps_the_connection_and_logs_once(
    live, app, api, caplog, monkeypatch
):
    website = api.admin().new_website()["id"]

    async def broken(body, headers):
        raise RuntimeError("collector broke on purpose")

    monkeypatch.setattr(app.state.services.collector, "send", broken)
    conn = http.client.HTTPConnection(*live, timeout=10)
    with caplog.at_level(logging.INFO):
        payload = {"type": "event", "payload": {"website": website, "url": "/x"}}
        response, body = _request(conn, "POST", "/api/send", payload)
        assert response.status == 500 and json.loads(body) == SERVER_ERROR
        local = conn.sock.getsockname()
        again, body = _request(conn, "GET", "/api/heartbeat")
        assert again.status == 200 and conn.sock.getsockname() == local
        time.sleep(0.2)
    errors = _errors(caplog)
    assert len(errors) == 1 and "collector broke on purpose" in str(errors[0].exc_info[1])
    conn.close()


@pytest.mark.parametrize("path", ["/api/send", "/api/batch", "/api/auth/login", "/api/websites"])
def test_a_client_gone_mid_body_is_not_an_error(live, app, caplog, path):
    with caplog.at_level(logging.DEBUG, logger="katsuo"):
        with socket.create_connection(live, timeout=10) as raw:
            raw.sendall(
                f"POST {path} HTTP/1.1\r\nHost: test\r\nUser-Agent: {UA}\r\n"
                "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n".encode()
                + b'{"type": "event", "payload": {'
            )
            time.sleep(0.2)  # the server is now waiting for the rest of the body
        time.sleep(0.5)
        # the server is fine and still answers
        conn = http.client.HTTPConnection(*live, timeout=10)
        assert _request(conn, "GET", "/api/heartbeat")[0].status == 200
        conn.close()
    assert _errors(caplog) == [], [r.getMessage() for r in _errors(caplog)]
    if path in ("/api/send", "/api/batch"):
        debug = [
            r.getMessage()
            for r in caplog.records
            if r.name == "katsuo.api" and r.levelno == logging.DEBUG
        ]
        assert debug == [f"client disconnected during POST {path}"]
