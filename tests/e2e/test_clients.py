"""Real third-party Umami clients against the live server: Umami's own Node client (`@umami/node`,
installed from the npm registry at setup) and the Python client `umami-analytics` (PyPI). Each
test sends known traffic through the client and checks what the server stored and answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
NODE_CLIENT = ROOT / "node_modules" / "@umami" / "node"

NODE_SCRIPT = """
import pkg from '@umami/node';
const umami = pkg.default ?? pkg;
umami.init({ websiteId: process.env.WEBSITE_ID, hostUrl: process.env.HOST_URL });
// One after the other: the first hit creates the session, with its language and screen.
const calls = [
  () => umami.track({ url: '/pricing?plan=pro', title: 'Pricing', hostname: 'node.test',
                referrer: 'https://news.example.org/item', language: 'de-DE', screen: '1920x1080' }),
  () => umami.track('signup-button', { plan: 'pro', seats: 3 }),
  () => umami.identify({ email: 'ada@example.org', age: 36 }),
];
const out = [];
for (const call of calls) {
  const response = await call();
  out.push({ status: response.status, body: await response.json() });
}
console.log(JSON.stringify(out));
"""


def run_node_client(website_id: str, host_url: str) -> list[dict]:
    if shutil.which("node") is None or not NODE_CLIENT.is_dir():
        unavailable("node or the npm package @umami/node is missing (run scripts/setup.sh --test)")
    done = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_SCRIPT],
        cwd=ROOT,
        env={**os.environ, "WEBSITE_ID": website_id, "HOST_URL": host_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_umami_node_client(katsuo):
    website_id = katsuo.new_website(domain="node.test", name="Node")
    answers = run_node_client(website_id, katsuo.url)

    assert [a["status"] for a in answers] == [200, 200, 200]
    # The client sends the same User-Agent from the same address every time: one visitor.
    assert len({a["body"]["sessionId"] for a in answers}) == 1
    events = katsuo.wait_for_rows("website_event", website_id, 2)
    assert len(events) == 2
    view, click = sorted(events, key=lambda e: e["event_type"])
    assert (view["url_path"], view["url_query"], view["page_title"]) == (
        "/pricing",
        "plan=pro",
        "Pricing",
    )
    assert (view["hostname"], view["referrer_domain"]) == ("node.test", "news.example.org")
    assert (click["event_type"], click["event_name"]) == (2, "signup-button")

    data = {r["data_key"]: r for r in katsuo.wait_for_rows("event_data", website_id, 2)}
    assert data["plan"]["string_value"] == "pro"
    assert data["seats"]["number_value"] == 3
    profile = {r["data_key"]: r for r in katsuo.wait_for_rows("session_data", website_id, 2)}
    assert profile["email"]["string_value"] == "ada@example.org"
    assert profile["age"]["number_value"] == 36
    session = katsuo.rows("session", website_id)[0]
    assert (session["language"], session["screen"]) == ("de-DE", "1920x1080")


@pytest.fixture
def python_client(katsuo):
    umami = pytest.importorskip(
        "umami", reason="the PyPI client umami-analytics is a test dependency"
    )
    umami.set_url_base(katsuo.url)
    yield umami
    umami.impl.auth_token = None
    umami.impl.default_website_id = None


def test_umami_python_client(katsuo, python_client):
    umami = python_client
    assert umami.heartbeat() is True
    login = umami.login("admin", "umami")
    assert login.user.username == "admin" and login.user.isAdmin
    assert umami.verify_token() is True

    website_id = katsuo.new_website(domain="py.test", name="Py")
    assert website_id in {w.id for w in umami.websites()}
    umami.set_website_id(website_id)
    umami.set_hostname("py.test")

    sent = [
        umami.new_page_view(page_title="Home", url="/", referrer="https://search.example.com/"),
        umami.new_page_view(page_title="Docs", url="/docs"),
        umami.new_event(
            event_name="checkout", title="Checkout", url="/checkout", custom_data={"plan": "pro"}
        ),
        umami.new_revenue_event(event_name="purchase", revenue=19.99, currency="EUR", url="/buy"),
    ]
    assert all(answer["sessionId"] for answer in sent)
    events = katsuo.wait_for_rows("website_event", website_id, 4)
    assert sorted(e["url_path"] for e in events if e["event_type"] == 1) == ["/", "/docs"]
    assert sorted(e["event_name"] for e in events if e["event_type"] == 2) == [
        "checkout",
        "purchase",
    ]
    revenue = katsuo.wait_for_rows("revenue", website_id, 1)
    assert [(r["currency"], Decimal(str(r["revenue"]))) for r in revenue] == [
        ("EUR", Decimal("19.99"))
    ]

    # Four hits from one visitor in one visit: two views, one visit, not a bounce (two views).
    now = datetime.now(UTC)
    stats = umami.website_stats(
        start_at=now - timedelta(hours=1), end_at=now + timedelta(minutes=1)
    )
    assert (stats.pageviews, stats.visitors, stats.visits, stats.bounces) == (2, 1, 1, 0)
    assert umami.active_users() == 1
