"""A link's and a pixel's statistics in Chromium: clicks on /q/<slug> and loads of /p/<slug>
counted by the test, shown by the same dashboard as websites; the list links to them."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.e2e.dashboard.traffic import EVIL, VISITORS


def test_link_and_pixel_statistics(shop_browser, shop):
    link = shop.member.ok(
        "POST",
        "/api/links",
        {
            "name": EVIL,
            "url": "https://example.com/launch",
            "slug": "launch-stats",
            "teamId": shop.team["id"],
        },
    )
    pixel = shop.member.ok(
        "POST",
        "/api/pixels",
        {"name": "Newsletter", "slug": "news-stats", "teamId": shop.team["id"]},
    )
    clicks = VISITORS[:3]
    with httpx.Client(base_url=shop.server.url) as http:
        for visitor in clicks:
            headers = {
                "User-Agent": visitor.user_agent,
                "X-Forwarded-For": visitor.ip,
                "cf-ipcountry": visitor.country,
            }
            assert http.get("/q/launch-stats", headers=headers).status_code in (301, 302, 307, 308)
        headers = {
            "User-Agent": VISITORS[0].user_agent,
            "X-Forwarded-For": VISITORS[0].ip,
            "cf-ipcountry": "DE",
        }
        assert http.get("/p/news-stats", headers=headers).status_code == 200

    b = shop_browser("member")
    page = b.goto(f"/teams/{shop.team['id']}/links")
    page.get_by_test_id("links").get_by_role("link", name=EVIL).click()
    page.wait_for_url(f"**/links/{link['id']}")
    b.goto(f"/links/{link['id']}?range=24h")
    card = page.locator('[data-testid="stats"] [data-metric="visitors"] .card-value')
    expect(card).to_have_text(str(len(clicks)))
    expect(page.get_by_test_id("website-name")).to_have_text(EVIL)
    expect(page.get_by_test_id("public-url")).to_contain_text("/q/launch-stats")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    countries = page.locator('[data-group="location"] .metric-label')
    expect(countries).to_have_text(["Germany", "United Kingdom", "United States"])
    b.shot("link-stats")

    # the pixel's image tag, copied from the list
    b.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=b.server.url)
    page = b.goto(f"/teams/{shop.team['id']}/pixels")
    page.get_by_role("button", name="Copy image tag of Newsletter").click()
    expect(page.get_by_text("Copied to clipboard")).to_be_visible()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == f'<img src="{b.server.url}/p/news-stats" alt="" width="1" height="1">'

    b.goto(f"/pixels/{pixel['id']}?range=24h")
    expect(card).to_have_text("1")
    b.shot("pixel-stats")
