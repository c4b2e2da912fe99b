"""The pages' hardening in Chromium: a login with a hostile ?next= lands on the dashboard, the page
script's own check of that target, the Content-Security-Policy really blocking an injected inline
handler, and /api/docs working with no network beyond Katsuo."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

HOSTILE = [
    "/%5Cevil.example/",
    "/%09/evil.example/",
    "//evil.example",
    "https://evil.example/",
    "/%5C%5Cevil",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_login_with_a_hostile_next_lands_on_the_dashboard(open_browser, query):
    b = open_browser()
    page = b.goto(f"/login?next={query}")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("umami")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{b.server.url}/websites")
    expect(page.get_by_role("heading", name="Websites", exact=True)).to_be_visible()


def test_the_page_script_follows_only_its_own_pages(open_browser):
    """The login page follows what the server chose; the script checks it again with the
    browser's own URL parser (tabs dropped, backslashes read as slashes)."""
    page = open_browser().goto("/login")
    check = lambda target: page.evaluate("(t) => katsuo.pageUnderBase(t)", target)
    for hostile in [
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "\\\\evil",
        "https://evil.example/x",
        "javascript:alert(1)",
        "/\n/evil.example",
    ]:
        assert check(hostile) == "/websites", hostile
    assert check("/websites/abc?q=1#top") == "/websites/abc?q=1#top"
    assert check("/settings/profile") == "/settings/profile"


def test_the_policy_blocks_an_injected_inline_handler(chromium, live_server):
    context = chromium.new_context()
    try:
        page = context.new_page()
        violations = []
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and violations.append(message.text)
            ),
        )
        page.goto(live_server.url + "/login")
        page.wait_for_load_state("networkidle")
        page.evaluate("""() => {
            const image = document.createElement("img");
            image.setAttribute("onerror", "window.injected = true");
            image.src = "/no-such-image.png";
            document.body.append(image);
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
        }""")
        page.wait_for_timeout(500)
        assert page.evaluate("() => window.injected") is None
        assert len(violations) == 2, violations
    finally:
        context.close()


def test_api_docs_work_without_any_other_origin(open_browser):
    b = open_browser()  # every request to another origin is aborted
    outside = []
    b.context.on(
        "request",
        lambda request: not request.url.startswith(b.server.url) and outside.append(request.url),
    )
    page = b.goto("/api/docs")
    expect(page.locator(".opblock-tag").first).to_be_visible()
    expect(page.get_by_text("/api/websites").first).to_be_attached()
    assert outside == []
    b.shot("api-docs", full_page=False)
