"""The website overview in Chromium over known traffic (traffic.py): stat cards and metric tables
that show what was sent and what the API answers, filters from a click and from the filter
dialog, the world map, the expanded view, date ranges, comparison, and a share URL logged out."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.e2e.dashboard.traffic import EVIL


def _card(page, metric: str):
    return page.locator(f'[data-testid="stats"] [data-metric="{metric}"] .card-value')


def _rows(page, group: str):
    return page.locator(f'[data-group="{group}"] .metric-row')


def _row(page, group: str, label: str):
    return _rows(page, group).filter(has=page.locator(".metric-label", has_text=re.compile(f"^{re.escape(label)}$")))


def test_overview_shows_the_traffic_sent(shop_browser, shop):
    b = shop_browser("admin")
    page = b.goto(f"/websites/{shop.website_id}?range=24h")
    expect(_card(page, "pageviews")).to_have_text(str(shop.pageviews))
    expect(_card(page, "visitors")).to_have_text(str(shop.visitors))
    expect(_row(page, "pages", "/pricing").locator(".metric-count")).to_have_text(str(shop.views_of("/pricing")))
    expect(_row(page, "location", "Germany")).to_have_count(1)
    b.shot("overview")
