"""Browser end-to-end fixtures: a live Katsuo server inside the test process, a third-party site
on another origin, and Debian's chromium driven by Playwright for Python.

What a test gets:

* `katsuo` — a `LiveKatsuo` on default settings, once per storage engine (tests using it run on
  embedded DuckDB and on PostgreSQL). It is the real app (`create_app`) served by uvicorn on a
  free port in a background thread; `katsuo.services` is the app's own `Services`, so a test
  reads exactly what the server wrote (`katsuo.rows(...)`, `katsuo.wait_for_rows(...)`).
  `katsuo.api` is an httpx client logged in as the default admin; `katsuo.new_website()`
  creates a website through the public API.
* `katsuo_with(**env)` — the same with extra environment variables (e.g.
  `TRACKER_SCRIPT_NAME`, `BASE_PATH`), started once per engine and set of variables.
* `site` — a `StaticSite`: an HTTP server on another port that serves pages a test registers
  with `site.add(path, html)`. The browser reaches it under made-up hostnames
  (`http://shop.test:<port>/…`, any `*.test` name), so pages live on a realistic origin of their
  own, different from Katsuo's `http://127.0.0.1:<port>`.
* `browser` (session) and `page` (a fresh context per test: own storage, an ordinary desktop
  Chrome User-Agent, `en-US`, a 1280×720 viewport), plus `beacons`, which records every request
  the page makes to a collect endpoint and lets a test wait for their responses.

Nothing here is tracker-specific except `tracker_page()` and `Beacons`; dashboard tests can use
`katsuo`, `browser` and `page` as they are. Missing chromium, Playwright or PostgreSQL make the
tests skip loudly (fail with KATSUO_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import html
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from katsuo.config import Settings
from katsuo.store import schema
from tests.conftest import make_env, unavailable

CHROMIUM = Path(os.environ.get("KATSUO_TEST_CHROMIUM", "/usr/bin/chromium"))
# Chromium's headless User-Agent says "HeadlessChrome", which bot detection rightly drops. The
# flag covers what a per-context override misses: keepalive requests sent after a page is gone.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Test sites get real-looking hostnames; all of them are this machine.
    "--host-resolver-rules=MAP *.test 127.0.0.1",
    f"--user-agent={USER_AGENT}",
]
VIEWPORT = {"width": 1280, "height": 720}
WAIT_SECONDS = 10.0


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def wait_until(
    condition, timeout: float = WAIT_SECONDS, interval: float = 0.05, what: str = "condition"
):
    """Poll `condition()` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class LiveKatsuo:
    """The real app served by uvicorn in a background thread of the test process."""

    def __init__(self, settings: Settings):
        import uvicorn

        from katsuo.app import create_app

        self.settings = settings
        self.app = create_app(settings)
        self._socket = _listening_socket()
        port = self._socket.getsockname()[1]
        self.origin = f"http://127.0.0.1:{port}"
        self.url = self.origin + settings.base_path
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="katsuo-live",
            daemon=True,
        )
        self._thread.start()
        wait_until(
            lambda: self._server.started or not self._thread.is_alive(), what="the server to start"
        )
        if not self._server.started:
            raise RuntimeError("the live Katsuo server failed to start (see the log above)")
        self.api = httpx.Client(base_url=self.url, timeout=30)
        token = self._ok("POST", "/api/auth/login", {"username": "admin", "password": "umami"})[
            "token"
        ]
        self.api.headers["Authorization"] = f"Bearer {token}"

    @property
    def services(self):
        return self.app.state.services

    def _ok(self, method: str, path: str, body: Any = None) -> Any:
        response = self.api.request(method, path, json=body)
        assert response.status_code == 200, (
            f"{method} {path} -> {response.status_code} {response.text}"
        )
        return response.json()

    def stop(self) -> None:
        self.api.close()
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()

    # --- fixtures of a test -------------------------------------------------------------------

    def new_website(self, domain: str = "shop.test", name: str = "Shop") -> str:
        """Create a website through the API; its id keeps each test's rows apart."""
        return self._ok("POST", "/api/websites", {"name": name, "domain": domain})["id"]

    # --- reading what the server stored -------------------------------------------------------

    def rows(self, table: str, website_id: str, **where: Any) -> list[dict]:
        """Rows of one of Umami's tables for a website, oldest first, as plain dicts (ids as str)."""
        t = schema.metadata.tables[table]
        query = sa.select(t).where(t.c.website_id == uuid.UUID(website_id))
        for column, value in where.items():
            query = query.where(t.c[column] == value)
        if "created_at" in t.c:
            query = query.order_by(t.c.created_at)
        with self.services.db.connect() as conn:
            found = [dict(row._mapping) for row in conn.execute(query)]
        return [
            {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in row.items()} for row in found
        ]

    def wait_for_rows(self, table: str, website_id: str, count: int, **where: Any) -> list[dict]:
        """Wait until at least `count` rows exist, then return them all (the test checks the exact
        number: extra rows are a bug it should see)."""
        return wait_until(
            lambda: (
                (found := self.rows(table, website_id, **where)) and len(found) >= count and found
            ),
            what=f"{count} {table} row(s) matching {where or 'the website'}",
        )

    def events(self, website_id: str, **where: Any) -> list[dict]:
        return self.rows("website_event", website_id, **where)


@pytest.fixture(scope="session")
def katsuo_with(engine, request, tmp_path_factory):
    """`katsuo_with(**env)` → a LiveKatsuo with those extra environment variables, started once
    per engine and variables and stopped at the end of the session."""
    started: dict[tuple, LiveKatsuo] = {}

    def get(**env: str) -> LiveKatsuo:
        key = tuple(sorted(env.items()))
        if key not in started:
            settings = Settings.from_env(make_env(engine, request, tmp_path_factory, **env))
            started[key] = LiveKatsuo(settings)
        return started[key]

    yield get
    for server in started.values():
        server.stop()


@pytest.fixture(scope="session")
def katsuo(katsuo_with) -> LiveKatsuo:
    return katsuo_with()


# --- the third-party site ---------------------------------------------------------------------


class StaticSite:
    """Serves registered pages (any hostname, the path decides), like a customer's website."""

    def __init__(self):
        self.pages: dict[str, tuple[str, bytes]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                page = site.pages.get(self.path.split("?", 1)[0].split("#", 1)[0])
                if page is None:
                    self.send_error(404)
                    return
                content_type, body = page
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.send_error(405)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="static-site", daemon=True
        )
        self._thread.start()

    def origin(self, hostname: str = "shop.test") -> str:
        return f"http://{hostname}:{self.port}"

    def add(
        self,
        path: str,
        body: str | bytes,
        content_type: str = "text/html; charset=utf-8",
        hostname: str = "shop.test",
    ) -> str:
        """Serve `body` at `path` and return its URL under `hostname`."""
        self.pages[path] = (content_type, body.encode() if isinstance(body, str) else body)
        return self.origin(hostname) + path

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def site():
    server = StaticSite()
    yield server
    server.stop()


def tracker_page(
    script_src: str,
    website_id: str | None,
    *,
    title: str = "Test page",
    body: str = "",
    head: str = "",
    **attributes: str,
) -> str:
    """An HTML page embedding the tracker the documented way. Keyword arguments become
    `data-*` attributes of the script tag (`host_url="…"` → `data-host-url="…"`)."""
    attrs = {"src": script_src}
    if website_id is not None:
        attrs["data-website-id"] = website_id
    attrs.update({"data-" + key.replace("_", "-"): value for key, value in attributes.items()})
    tag = " ".join(f'{name}="{html.escape(value)}"' for name, value in attrs.items())
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"{head}<script defer {tag}></script></head><body>{body}</body></html>"
    )


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        unavailable(f"chromium at {CHROMIUM}", FileNotFoundError("apt-get install chromium"))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        unavailable("Playwright for Python", error)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_context(browser, **options):
    """A browser context as an ordinary desktop visitor (options override)."""
    ctx = browser.new_context(
        **{"user_agent": USER_AGENT, "locale": "en-US", "viewport": VIEWPORT, **options}
    )
    ctx.set_default_timeout(WAIT_SECONDS * 1000)
    return ctx


@pytest.fixture
def context(browser):
    ctx = new_context(browser)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@dataclass
class Beacon:
    """One request to a collect endpoint, and its answer once it arrived."""

    url: str
    headers: dict[str, str]
    body: dict
    status: int | None = None
    answer: Any = None

    @property
    def type(self) -> str:
        return self.body.get("type")

    @property
    def payload(self) -> dict:
        return self.body.get("payload") or {}


@dataclass
class Beacons:
    """Every POST the browser context sends to a path ending in one of `paths`."""

    paths: tuple[str, ...] = ("/api/send",)
    sent: list[Beacon] = field(default_factory=list)
    _pending: dict = field(default_factory=dict)

    def attach(self, ctx) -> None:
        ctx.on("request", self._on_request)
        ctx.on("requestfinished", self._on_finished)
        ctx.on("requestfailed", self._on_finished)

    def _matches(self, request) -> bool:
        return request.method == "POST" and request.url.split("?", 1)[0].endswith(self.paths)

    def _on_request(self, request) -> None:
        if self._matches(request):
            beacon = Beacon(request.url, request.headers, json.loads(request.post_data or "{}"))
            self._pending[request] = beacon
            self.sent.append(beacon)

    def _on_finished(self, request) -> None:
        beacon = self._pending.pop(request, None)
        if beacon is None:
            return
        response = request.response() if request.failure is None else None
        beacon.status = response.status if response else 0
        if response:
            try:
                beacon.answer = response.json()
            except Exception:  # noqa: BLE001 - a non-JSON answer is recorded as absent
                beacon.answer = None

    def wait(self, page, count: int) -> list[Beacon]:
        """Let the page run until `count` beacons were answered; return all sent so far."""
        deadline = time.monotonic() + WAIT_SECONDS
        while sum(b.status is not None for b in self.sent) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} answered beacons, saw {self.describe()}")
            page.wait_for_timeout(25)
        return self.sent

    def quiet(self, page, milliseconds: int = 800) -> list[Beacon]:
        """Let the page run for a while (longer than the tracker's 300 ms navigation delay) and
        return what was sent meanwhile: for checks that something was NOT sent."""
        page.wait_for_timeout(milliseconds)
        return self.sent

    def describe(self) -> str:
        return repr(
            [(b.type, b.payload.get("name"), b.payload.get("url"), b.status) for b in self.sent]
        )


@pytest.fixture
def beacons(context) -> Beacons:
    recorder = Beacons()
    recorder.attach(context)
    return recorder


@pytest.fixture
def visitor(browser):
    """`visitor(collect_paths=…, **context_options)` → (page, beacons) of another visitor, in a
    context of their own (other storage, other settings), closed after the test."""
    opened = []

    def open_visitor(collect_paths: tuple[str, ...] = ("/api/send",), **options):
        ctx = new_context(browser, **options)
        opened.append(ctx)
        recorder = Beacons(paths=collect_paths)
        recorder.attach(ctx)
        return ctx.new_page(), recorder

    yield open_visitor
    for ctx in opened:
        ctx.close()
