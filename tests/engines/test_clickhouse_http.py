"""The production path to a ClickHouse server: `clickhouse-connect` over HTTP.

No ClickHouse server can be installed here, so the test serves ClickHouse's HTTP interface
itself: a small server that runs each request on the embedded engine (chdb) and answers in the
HTTP interface's format (result bytes in the requested format, X-ClickHouse-* headers, errors as
status 500 with the exception text). Katsuo then runs unchanged with
CLICKHOUSE_URL=http://127.0.0.1:<port>/<database>: migrations, /api/send, stats, reset.
"""

from __future__ import annotations

import re
import tempfile
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit

import pytest

from katsuo.config import Settings
from katsuo.services import Services
from tests.conftest import make_env
from tests.helpers import admin_with_website

# Query-string parameters of the HTTP interface that are not engine settings (the HTTP layer's
# own: response buffering, progress headers, compression, the client's protocol version).
_NOT_SETTINGS = {
    "query",
    "database",
    "query_id",
    "session_id",
    "session_timeout",
    "compress",
    "decompress",
    "user",
    "password",
    "default_format",
    "quota_key",
    "wait_end_of_query",
    "send_progress_in_http_headers",
    "buffer_size",
    "http_headers_progress_interval_ms",
    "enable_http_compression",
    "client_protocol_version",
}
_FORMAT = re.compile(r"\s+FORMAT\s+(\w+)\s*$", re.IGNORECASE)
_INSERT_HEAD = re.compile(rb"(\s*INSERT\s.*?\sFORMAT\s+\w+)[ \t]*\r?\n?", re.IGNORECASE | re.DOTALL)


class ChdbOverHttp(BaseHTTPRequestHandler):
    """One request → one statement on the embedded engine, answered as ClickHouse's server would."""

    engine = None  # a chdb connection, shared (requests take the lock)
    lock = threading.Lock()
    requests: ClassVar[list[str]] = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def _answer(self):
        params = dict(parse_qsl(urlsplit(self.path).query))
        body = self._body()
        body = _decompress(body, self.headers.get("Content-Encoding"))
        query = params.get("query")
        sql, data = (query, body) if query else _split_insert(body)
        settings = {
            k: v for k, v in params.items() if k not in _NOT_SETTINGS and not k.startswith("param_")
        }
        try:
            result, fmt = self._run(sql, data, params.get("database"), settings)
        except Exception as error:  # noqa: BLE001 - every engine error goes back to the client
            text = str(error).encode()
            code = re.match(r"Code: (\d+)", str(error))
            self.send_response(500)
            self.send_header("X-ClickHouse-Exception-Code", code.group(1) if code else "1")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)
            return
        self.send_response(200)
        self.send_header("X-ClickHouse-Format", fmt)
        self.send_header("X-ClickHouse-Timezone", "UTC")
        self.send_header("X-ClickHouse-Summary", '{"read_rows":"0","written_rows":"0"}')
        self.send_header("Content-Length", str(len(result)))
        self.end_headers()
        self.wfile.write(result)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []  # streamed inserts come chunked
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(chunks)

    def _run(
        self, sql: str, data: bytes, database: str | None, settings: dict
    ) -> tuple[bytes, str]:
        sql = sql.strip().rstrip(";")
        match = _FORMAT.search(sql)
        fmt = match.group(1) if match else "TabSeparated"
        statement = sql[: match.start()] if match else sql
        with self.lock:
            ChdbOverHttp.requests.append(sql)
            if database:
                self.engine.query(f"USE `{database}`")
            for name, value in settings.items():
                self.engine.query(f"SET {name} = {value if value.isdigit() else repr(value)}")
            if data and statement.upper().startswith("INSERT"):
                # The rows arrive as the request body: hand them to the engine as a file.
                with tempfile.NamedTemporaryFile(suffix="." + fmt.lower()) as rows:
                    rows.write(data)
                    rows.flush()
                    self.engine.query(f"{statement} FROM INFILE '{rows.name}' FORMAT {fmt}")
                return b"", fmt
            return self.engine.query(statement, fmt).bytes(), fmt


def _split_insert(body: bytes) -> tuple[str, bytes]:
    """A body holds a statement; an INSERT's body may go on after `FORMAT name` with the rows."""
    head = _INSERT_HEAD.match(body)
    if head is None:
        return body.decode(), b""
    return head.group(1).decode(), body[head.end() :]


def _decompress(body: bytes, encoding: str | None) -> bytes:
    if encoding == "lz4":
        import lz4.frame

        return lz4.frame.decompress(body)
    if encoding == "zstd":
        from backports import zstd

        return zstd.decompress(body)
    if encoding == "gzip":
        import gzip

        return gzip.decompress(body)
    return body


@pytest.fixture(scope="module")
def clickhouse_http(chdb_databases):
    import chdb

    ChdbOverHttp.engine = chdb.connect(str(chdb_databases.path))
    database = f"katsuo_http_{uuid.uuid4().hex[:8]}"
    ChdbOverHttp.engine.query(f"CREATE DATABASE `{database}`")
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChdbOverHttp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{database}"
    server.shutdown()


def test_katsuo_on_a_clickhouse_server_over_http(clickhouse_http, request, tmp_path_factory):
    from fastapi.testclient import TestClient

    from katsuo.app import create_app

    settings = Settings.from_env(
        make_env("duckdb", request, tmp_path_factory, CLICKHOUSE_URL=clickhouse_http)
    )
    services = Services.start(settings)
    try:
        assert services.db.events.kind == "clickhouse"
        with TestClient(create_app(settings, services)) as client:
            token, website = admin_with_website(client, "HTTP")
            headers = {"Authorization": f"Bearer {token}"}
            start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
            visitors = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
            for n, ip in enumerate(visitors):
                for path in ("/", "/pricing"):
                    payload = {
                        "website": website,
                        "url": path,
                        "hostname": "example.com",
                        "language": "en-US",
                        "screen": "1920x1080",
                        "timestamp": int((start + timedelta(minutes=n)).timestamp()),
                    }
                    response = client.post(
                        "/api/send",
                        json={"type": "event", "payload": payload},
                        headers={
                            "User-Agent": f"Mozilla/5.0 (X11; Linux x86_64) Firefox/{120 + n}.0",
                            "X-Forwarded-For": ip,
                        },
                    )
                    assert response.status_code == 200, response.text
            identify = {
                "website": website,
                "url": "/",
                "hostname": "example.com",
                "data": {"plan": "pro"},
                "timestamp": int(start.timestamp()),
            }
            for _ in range(2):  # the second identify replaces the first row (delete + insert)
                assert (
                    client.post(
                        "/api/send",
                        json={"type": "identify", "payload": identify},
                        headers={
                            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
                            "X-Forwarded-For": visitors[0],
                        },
                    ).status_code
                    == 200
                )
            window = {
                "startAt": int((start - timedelta(hours=1)).timestamp() * 1000),
                "endAt": int((start + timedelta(hours=2)).timestamp() * 1000),
            }
            stats = client.get(
                f"/api/websites/{website}/stats", params=window, headers=headers
            ).json()
            assert (stats["pageviews"], stats["visitors"], stats["visits"]) == (6, 3, 3)
            paths = client.get(
                f"/api/websites/{website}/metrics",
                params={**window, "type": "path"},
                headers=headers,
            ).json()
            assert sorted((row["x"], row["y"]) for row in paths) == [("/", 3), ("/pricing", 3)]
            properties = client.get(
                f"/api/websites/{website}/session-data/properties", params=window, headers=headers
            ).json()
            assert [(row["propertyName"], row["total"]) for row in properties] == [("plan", 1)]

            assert client.post(f"/api/websites/{website}/reset", headers=headers).status_code == 200
            stats = client.get(
                f"/api/websites/{website}/stats", params=window, headers=headers
            ).json()
            assert stats["pageviews"] == 0
    finally:
        services.close()
    statements = " ".join(ChdbOverHttp.requests)
    assert "CREATE TABLE IF NOT EXISTS `website_event`" in statements
    # The writer's batches arrive as columnar inserts, not as rows of SQL text.
    assert re.search(r"INSERT INTO `?website_event`? \(.*\) FORMAT Native", statements)
