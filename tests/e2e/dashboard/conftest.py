"""Fixtures of the dashboard's browser tests: a live server of the per-test app (the one the
`api` fixture drives, on a freshly emptied database), opened in the e2e suite's Chromium
(tests/e2e/conftest.py), with a screenshot of every screen under test-output/screenshots/."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path
from typing import Self

import pytest

from katsuo.web.assets import STATIC_DIR
from katsuo.web.vendor import VENDOR_FILES

SCREENSHOTS = Path(os.environ.get("KATSUO_TEST_OUTPUT", "test-output")) / "screenshots"


class LiveServer:
    """The real app served by uvicorn on a free local port, in a thread of the test process."""

    def __init__(self, app):
        import uvicorn

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def live_server_with(app, services):
    """`live_server_with(**settings_changes)`: another live app over the same services."""
    from katsuo.app import create_app

    servers: list[LiveServer] = []

    def start(**changes) -> LiveServer:
        server = LiveServer(create_app(services.settings.model_copy(update=changes), services))
        servers.append(server.__enter__())
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def chromium(browser):
    """The e2e suite's Chromium (tests/e2e/conftest.py), once the pages' libraries are known to
    be installed."""
    missing = [
        name for name in VENDOR_FILES.values() if not (STATIC_DIR / "vendor" / name).exists()
    ]
    if missing:
        pytest.fail(f"front-end libraries missing ({', '.join(missing)}): run scripts/setup.sh")
    return browser


class Browser:
    """One browser context against the live server: pages, screenshots, and no outside requests
    (website icons would otherwise be fetched from the favicon service)."""

    def __init__(self, chromium, server: LiveServer, engine: str, phone: bool = False):
        viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 860}
        self.context = chromium.new_context(viewport=viewport, device_scale_factor=1)
        # Only foreign URLs are intercepted: a handler on our own requests would run only while
        # the test thread is inside a Playwright call, stalling the page whenever the test waits
        # on something else (e.g. polls the API).
        self.context.route(
            re.compile(rf"^(?!{re.escape(server.url)}/)"), lambda route: route.abort()
        )
        self.server = server
        self.engine = engine
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Whatever the Content-Security-Policy blocks (an inline script or handler, a foreign
        # script) is a page that would not work: it fails the test like a JavaScript error.
        self.page.on("console", self._csp_violation)

    def _csp_violation(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(message.text)

    def goto(self, path: str):
        self.page.goto(self.server.url + path)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def login(self, username: str, password: str) -> None:
        page = self.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/websites")

    def shot(self, name: str, full_page: bool = True) -> Path:
        folder = SCREENSHOTS / self.engine
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        self.page.wait_for_timeout(250)  # let transitions settle
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def open_browser(chromium, live_server, engine):
    opened: list[Browser] = []

    def make(phone: bool = False, server: LiveServer | None = None) -> Browser:
        window = Browser(chromium, server or live_server, engine, phone=phone)
        opened.append(window)
        return window

    yield make
    for opened_browser in opened:
        opened_browser.context.close()
        assert not opened_browser.errors, f"JavaScript errors: {opened_browser.errors}"


@pytest.fixture(scope="package")
def shop(engine, request, tmp_path_factory, chromium, site):
    """One live server on a database of its own with the known traffic of traffic.py, shared by
    the analytics screens' tests (built once per engine keeps the browser suite quick; they add
    reports, links and websites of their own but never traffic to the shop)."""
    from katsuo.app import create_app
    from katsuo.config import Settings
    from katsuo.services import Services
    from tests.conftest import make_env
    from tests.e2e.dashboard.traffic import build_shop

    settings = Settings.from_env(make_env(engine, request, tmp_path_factory))
    services = Services.start(settings)
    try:
        with LiveServer(create_app(settings, services)) as server:
            yield build_shop(server, chromium, site)
    finally:
        services.close()


@pytest.fixture
def shop_browser(chromium, shop, engine):
    """`shop_browser(username=None, phone=False)` → a Browser on the shop's server, logged in as
    that user (None: logged out); JavaScript errors fail the test."""
    opened: list[Browser] = []

    def make(username: str | None = "admin", phone: bool = False) -> Browser:
        from tests.e2e.dashboard.traffic import PASSWORD

        window = Browser(chromium, shop.server, engine, phone=phone)
        opened.append(window)
        if username:
            window.login(username, "umami" if username == "admin" else PASSWORD)
        return window

    yield make
    for window in opened:
        window.context.close()
        assert not window.errors, f"JavaScript errors: {window.errors}"
