"""Segments and cohorts in Chromium: create, edit and delete them on their pages, save the
dashboard's filters as a segment and apply it, and a view-only team member sees no controls;
every change is checked through the API."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.dashboard.test_management import EVIL, eventually


def test_segments_and_cohorts(open_browser, api):
    admin = api.admin()
    website = admin.new_website(name="Shop", domain="shop.example")
    segments_url = f"/api/websites/{website['id']}/segments"
    b = open_browser()
    page = b.page
    b.login("admin", "umami")

    b.goto(f"/websites/{website['id']}/segments")
    expect(page.get_by_text("No segments yet")).to_be_visible()
    page.get_by_role("button", name="Add segment").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Name").fill(EVIL)
    dialog.get_by_label("Field of filter 1").select_option("country")
    dialog.get_by_label("Operator of filter 1").select_option("neq")
    dialog.get_by_label("Value of filter 1").fill("DE")
    dialog.get_by_role("button", name="Add filter").click()
    dialog.get_by_label("Field of filter 2").select_option("path")
    dialog.get_by_label("Operator of filter 2").select_option("c")
    dialog.get_by_label("Value of filter 2").fill("/blog")
    dialog.get_by_label("Match").select_option("any")
    b.shot("segment-dialog", full_page=False)
    with page.expect_navigation():
        dialog.get_by_role("button", name="Save").click()
    [segment] = admin.ok("GET", segments_url, params={"type": "segment"})["data"]
    assert segment["name"] == EVIL
    assert segment["parameters"] == {
        "filters": [
            {"name": "country", "operator": "neq", "value": "DE"},
            {"name": "path", "operator": "c", "value": "/blog"},
        ],
        "match": "any",
    }
    row = page.locator("tbody tr")
    expect(row.get_by_role("link")).to_have_text(EVIL)
    b.shot("segments")

    row.get_by_role("button", name="Edit").click()
    dialog = page.locator("dialog[open]")
    expect(dialog.get_by_label("Value of filter 2")).to_have_value("/blog")
    dialog.get_by_label("Name").fill("Readers")
    dialog.get_by_role("button", name="Remove filter 1").click()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Save").click()
    updated = admin.ok("GET", f"{segments_url}/{segment['id']}")
    assert updated["name"] == "Readers"
    assert updated["parameters"]["filters"] == [{"name": "path", "operator": "c", "value": "/blog"}]

    # cohorts
    b.goto(f"/websites/{website['id']}/cohorts")
    page.get_by_role("button", name="Add cohort").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Name").fill("Buyers")
    dialog.get_by_label("Visitors who").select_option("event")
    dialog.get_by_label("Page or event").fill("checkout")
    dialog.get_by_label("In", exact=True).select_option("90day")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Save").click()
    [cohort] = admin.ok("GET", segments_url, params={"type": "cohort"})["data"]
    assert cohort["parameters"]["action"] == {"type": "event", "value": "checkout"}
    assert cohort["parameters"]["dateRange"] == "90day"
    expect(page.locator("tbody tr")).to_contain_text("Triggered checkout")
    b.shot("cohorts")

    # the dashboard lists both, and a filter there can be saved as another segment
    b.goto(f"/websites/{website['id']}")
    expect(page.get_by_label("Segment", exact=True)).to_contain_text("Readers")
    page.get_by_label("Segment", exact=True).select_option(label="Readers")
    expect(page).to_have_url(re.compile(re.escape(f"segment={segment['id']}")))
    page.get_by_role("button", name="Filter", exact=True).click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Field").select_option("browser")
    dialog.get_by_label("Value").fill("firefox")
    dialog.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("filters")).to_contain_text("Browser is Firefox")
    expect(page).to_have_url(re.compile(re.escape("browser=eq.firefox")))
    page.get_by_role("button", name="Save as segment").click()
    page.locator("dialog[open]").get_by_label("Name").fill("Firefox")
    page.locator("dialog[open]").get_by_role("button", name="Save").click()
    saved = eventually(
        lambda: [
            s
            for s in admin.ok("GET", segments_url, params={"type": "segment"})["data"]
            if s["name"] == "Firefox"
        ]
    )
    assert saved[0]["parameters"]["filters"] == [
        {"name": "browser", "operator": "eq", "value": "firefox"}
    ]

    # delete
    b.goto(f"/websites/{website['id']}/segments")
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.locator('tr[data-segment="Readers"]').get_by_role("button", name="Delete").click()
    assert [
        s["name"] for s in admin.ok("GET", segments_url, params={"type": "segment"})["data"]
    ] == ["Firefox"]


def test_view_only_team_member_cannot_change_segments(open_browser, api):
    owner = api.new_user()
    team = owner.new_team("Readers club")
    viewer = api.new_user(password="viewer-pass-3")
    owner.add_member(team["id"], viewer, "team-view-only")
    website = owner.new_website(name="Club site", teamId=team["id"])
    owner.ok(
        "POST",
        f"/api/websites/{website['id']}/segments",
        {
            "type": "segment",
            "name": "Mobile",
            "parameters": {"filters": [{"name": "device", "operator": "eq", "value": "mobile"}]},
        },
    )
    b = open_browser()
    b.login(viewer.user["username"], "viewer-pass-3")
    b.goto(f"/websites/{website['id']}/segments")
    expect(b.page.locator("tbody tr")).to_contain_text("Device is Mobile")
    for control in ("Add segment", "Edit", "Delete"):
        expect(b.page.get_by_role("button", name=control)).to_have_count(0)
    b.goto(f"/websites/{website['id']}")
    expect(b.page.get_by_role("button", name="Save as segment")).to_have_count(0)
