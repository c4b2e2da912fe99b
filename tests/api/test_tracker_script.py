"""Serving the tracker: paths (/script.js, TRACKER_SCRIPT_NAME, BASE_PATH), headers, baked collect
settings, the size budget, and the fallback when no minified build exists."""

from __future__ import annotations

import gzip
import shutil
import subprocess

import pytest
from fastapi.testclient import TestClient

from katsuo.app import create_app
from katsuo.config import Settings
from katsuo.web.tracker import build, route

TRACKER_HEADERS = {
    "access-control-allow-origin": "*",
    "cache-control": "public, max-age=86400, must-revalidate",
}


def client_for(**env: str) -> TestClient:
    # No lifespan: serving the script needs no database.
    return TestClient(create_app(Settings.from_env({"APP_SECRET": "x", **env}, load_dotenv=False)))


def get_script(client: TestClient, path: str):
    response = client.get(path)
    assert response.status_code == 200, f"{path} -> {response.status_code}"
    for name, value in TRACKER_HEADERS.items():
        assert response.headers[name] == value, name
    assert response.headers["content-type"].startswith("application/javascript")
    return response


def test_default_path_serves_the_minified_tracker_with_the_default_endpoint():
    body = get_script(client_for(), "/script.js").text
    assert "__KATSUO_" not in body
    assert '"/api/send"' in body and '"./api/send"' in body
    assert "data-website-id" not in body  # attributes are read by suffix; the check is below
    assert '"website-id"' in body
    assert len(body) < len(build.SOURCE.read_text()) / 2, "served unminified"


def test_minified_tracker_is_within_two_kilobytes_gzipped():
    body = get_script(client_for(), "/script.js").content
    assert len(gzip.compress(body, 9)) <= 2048


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_served_script_is_valid_javascript(tmp_path):
    for path, env in (("/script.js", {}), ("/a/b/t", {"TRACKER_SCRIPT_NAME": "/a/b/t"})):
        script = tmp_path / "served.js"
        script.write_bytes(get_script(client_for(**env), path).content)
        subprocess.run(["node", "--check", str(script)], check=True)


def test_every_tracker_script_name_is_served_and_only_those():
    client = client_for(TRACKER_SCRIPT_NAME="stats.js, /path/to/tracker ,x")
    get_script(client, "/script.js")
    assert '"./api/send"' in get_script(client, "/stats.js").text
    assert '"./api/send"' in get_script(client, "/x").text
    # A nested name still reaches the app root's endpoint, not /path/to/api/send.
    assert '"../../api/send"' in get_script(client, "/path/to/tracker").text
    assert client.get("/x.js").status_code == 404
    assert client.get("/tracker").status_code == 404


def test_base_path_prefixes_every_tracker_path():
    client = client_for(BASE_PATH="/analytics", TRACKER_SCRIPT_NAME="u.js")
    get_script(client, "/analytics/script.js")
    get_script(client, "/analytics/u.js")
    assert client.get("/script.js").status_code == 404
    assert client.get("/u.js").status_code == 404


def test_collect_endpoint_and_host_are_baked_in():
    body = get_script(
        client_for(COLLECT_API_ENDPOINT="/api/x", COLLECT_API_HOST="https://stats.example.com/"),
        "/script.js",
    ).text
    assert '"https://stats.example.com"' in body
    assert '"/api/x"' in body and '"./api/x"' in body
    assert "/api/send" not in body


def test_unchanged_script_revalidates_with_304():
    client = client_for()
    etag = get_script(client, "/script.js").headers["etag"]
    again = client.get("/script.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == TRACKER_HEADERS["cache-control"]
    assert client.get("/script.js", headers={"If-None-Match": '"other"'}).status_code == 200


def test_head_request_answers_like_get():
    response = client_for().head("/script.js")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


def test_without_minified_build_or_terser_the_source_is_served(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "MINIFIED", tmp_path / "script.min.js")
    monkeypatch.setattr(build, "TERSER", tmp_path / "no-terser")
    body = get_script(client_for(), "/script.js").text
    assert "Katsuo's browser tracker" in body  # the readable source, comments and all
    assert '"./api/send"' in body and "__KATSUO_" not in body
    assert not (tmp_path / "script.min.js").exists()


@pytest.mark.skipif(not build.TERSER.exists(), reason="terser is not installed (npm ci)")
def test_missing_minified_build_is_made_at_start(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "MINIFIED", tmp_path / "script.min.js")
    body = get_script(client_for(), "/script.js").text
    assert "Katsuo's browser tracker" not in body
    assert (tmp_path / "script.min.js").exists()


def test_collect_preflight_is_answered_under_base_path():
    # The tracker's JSON POST is cross-origin: without this answer the browser never sends it.
    response = client_for(BASE_PATH="/analytics").options(
        "/analytics/api/send",
        headers={"Origin": "http://shop.test", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"


class Upstream:
    """A server elsewhere holding a tracker script, for TRACKER_SCRIPT_URL."""

    def __init__(self, body: bytes):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        upstream = self
        self.body: bytes | None = body
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                upstream.requests += 1
                if upstream.body is None:
                    self.send_error(503)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(upstream.body)))
                self.end_headers()
                self.wfile.write(upstream.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tracker.js"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_tracker_script_url_is_proxied_and_reused():
    upstream = Upstream(b"/* upstream tracker */")
    try:
        client = client_for(TRACKER_SCRIPT_URL=upstream.url, TRACKER_SCRIPT_NAME="x.js")
        assert get_script(client, "/script.js").content == b"/* upstream tracker */"
        assert get_script(client, "/x.js").content == b"/* upstream tracker */"
        get_script(client, "/script.js")
        assert upstream.requests == 1  # one fetch for every path, then the copy is reused
    finally:
        upstream.close()


def test_failing_tracker_script_url_serves_the_last_good_copy(monkeypatch):
    monkeypatch.setattr(route, "PROXY_TTL", 0.0)  # every request goes to the source
    upstream = Upstream(b"/* v1 */")
    try:
        client = client_for(TRACKER_SCRIPT_URL=upstream.url)
        assert get_script(client, "/script.js").content == b"/* v1 */"
        upstream.body = b"/* v2 */"
        assert get_script(client, "/script.js").content == b"/* v2 */"
        upstream.body = None
        assert get_script(client, "/script.js").content == b"/* v2 */"
        assert upstream.requests == 3
    finally:
        upstream.close()


def test_unreachable_tracker_script_url_answers_502():
    upstream = Upstream(b"")
    upstream.close()
    response = client_for(TRACKER_SCRIPT_URL=upstream.url).get("/script.js")
    assert response.status_code == 502
    assert "TRACKER_SCRIPT_URL" in response.text
