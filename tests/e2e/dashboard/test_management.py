"""Walk the dashboard in Chromium as an administrator, a user and a view-only user: every action
is checked through the API afterwards, and every screen leaves a screenshot under
test-output/screenshots/<engine>/."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

EVIL = '<script>alert("pwned")</script>'


def eventually(check, timeout: float = 5.0):
    """Poll `check` until it returns a truthy value (the UI acts asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, "condition not met in time"
            return value
        time.sleep(0.05)


def test_admin_manages_websites_profile_keys_and_users(open_browser, api):
    admin = api.admin()
    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    expect(page.get_by_text("No websites yet")).to_be_visible()
    b.shot("websites-empty")

    page.get_by_role("button", name="Add website").click()
    page.locator("#website-name").fill(EVIL + " Blog")
    page.locator("#website-domain").fill("blog.example.com")
    b.shot("website-add-dialog", full_page=False)
    page.locator("#website-create-dialog").get_by_role("button", name="Save").click()
    page.wait_for_url("**/settings")
    [website] = admin.ok("GET", "/api/websites")["data"]
    assert website["name"] == EVIL + " Blog" and website["domain"] == "blog.example.com"
    expect(page.get_by_test_id("website-name")).to_have_text(
        EVIL + " Blog"
    )  # shown as text, not run
    expect(page.get_by_test_id("tracking-code")).to_have_text(
        f'<script defer src="{b.server.url}/script.js" data-website-id="{website["id"]}"></script>'
    )

    # share URL: on, regenerate, off
    page.get_by_test_id("share-toggle").check()
    slug = eventually(lambda: admin.ok("GET", f"/api/websites/{website['id']}")["shareId"])
    expect(page.get_by_test_id("share-url")).to_have_text(f"{b.server.url}/share/{slug}")
    page.get_by_role("button", name="Regenerate").click()
    new_slug = eventually(
        lambda: (s := admin.ok("GET", f"/api/websites/{website['id']}")["shareId"]) != slug and s
    )
    expect(page.get_by_test_id("share-url")).to_have_text(f"{b.server.url}/share/{new_slug}")
    b.shot("website-settings")
    page.get_by_test_id("share-toggle").uncheck()
    eventually(lambda: admin.ok("GET", f"/api/websites/{website['id']}")["shareId"] is None)
    expect(page.get_by_test_id("share-url")).to_be_hidden()

    # edit
    page.locator("#website-name").fill("Blog")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("website-name")).to_have_text("Blog")
    assert admin.ok("GET", f"/api/websites/{website['id']}")["name"] == "Blog"

    # reset needs the typed confirmation
    page.get_by_role("button", name="Reset").click()
    dialog = page.locator("#reset-dialog")
    dialog.get_by_role("button", name="Reset").click()
    assert (
        admin.ok("GET", f"/api/websites/{website['id']}")["resetAt"] is None
    )  # nothing typed, nothing sent
    dialog.get_by_label("Type RESET to confirm").fill("RESET")
    b.shot("website-reset-dialog", full_page=False)
    with page.expect_navigation():  # the page reloads once the API has answered
        dialog.get_by_role("button", name="Reset").click()
    assert admin.ok("GET", f"/api/websites/{website['id']}")["resetAt"]

    b.goto("/websites")
    expect(page.get_by_test_id("websites").get_by_role("link", name="Blog")).to_be_visible()
    b.shot("websites")

    # profile: change password
    b.goto("/settings/profile")
    expect(page.get_by_test_id("profile-username")).to_have_text("admin")
    page.get_by_role("button", name="Change password").click()
    page.get_by_label("Current password").fill("wrong-password")
    page.get_by_label("New password").fill("new-admin-pass")
    page.locator("#password-dialog").get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Current password is incorrect")
    page.get_by_label("Current password").fill("umami")
    page.locator("#password-dialog").get_by_role("button", name="Save").click()
    expect(page.locator("#password-dialog")).to_be_hidden()
    assert (
        api.post("/api/auth/login", {"username": "admin", "password": "new-admin-pass"}).status_code
        == 200
    )
    # the change ended admin's other logins; this browser got a new cookie and goes on below
    assert admin.get("/api/websites").status_code == 401
    admin = api.login("admin", "new-admin-pass")
    b.shot("profile")

    # API keys: shown once, usable, deletable
    b.goto("/settings/api-keys")
    expect(page.get_by_text("No API keys")).to_be_visible()
    page.get_by_role("button", name="Create key").click()
    page.get_by_label("Name").fill("reporting")
    page.locator("#api-key-dialog").get_by_role("button", name="Create").click()
    key = page.get_by_test_id("new-api-key").inner_text()
    assert key.startswith("katsuo_")
    b.shot("api-key-created", full_page=False)
    assert api.get("/api/websites", headers={"x-umami-api-key": key}).status_code == 200
    page.get_by_role("button", name="Done").click()
    keys_table = page.get_by_test_id("api-keys")
    expect(keys_table.get_by_text("reporting")).to_be_visible()
    assert key not in page.content()  # never shown again
    b.shot("api-keys")
    page.once("dialog", lambda d: d.accept())
    keys_table.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No API keys")).to_be_visible()
    assert api.get("/api/websites", headers={"x-umami-api-key": key}).status_code == 401

    # users: create, edit role and password, delete
    b.goto("/settings/users")
    page.get_by_role("button", name="Create user").click()
    dialog = page.locator("#user-create-dialog")
    dialog.get_by_label("Username").fill("casey")
    dialog.get_by_label("Password").fill("casey-pass-1")
    dialog.get_by_label("Role").select_option("view-only")
    dialog.get_by_role("button", name="Save").click()
    row = page.locator('tr[data-user="casey"]')
    expect(row.get_by_test_id("role")).to_have_text("View only")
    b.shot("users")
    row.get_by_role("button", name="Edit").click()
    edit = page.locator("dialog[open]")
    edit.get_by_label("Role").select_option("user")
    edit.get_by_label("New password").fill("casey-pass-2")
    edit.get_by_role("button", name="Save").click()
    expect(page.locator('tr[data-user="casey"]').get_by_test_id("role")).to_have_text("User")
    casey = api.login("casey", "casey-pass-2")
    assert casey.user["role"] == "user"
    page.locator('tr[data-user="casey"]').get_by_role("button", name="Delete").click()
    page.locator("dialog[open]").get_by_role("button", name="Delete").click()
    expect(page.locator('tr[data-user="casey"]')).to_have_count(0)
    assert (
        api.post("/api/auth/login", {"username": "casey", "password": "casey-pass-2"}).status_code
        == 401
    )
    # the administrator cannot delete themselves: no button on their own row
    expect(
        page.locator('tr[data-user="admin"]').get_by_role("button", name="Delete")
    ).to_have_count(0)

    # delete the website
    b.goto(f"/websites/{website['id']}/settings")
    page.get_by_role("button", name="Delete").click()
    dialog = page.locator("#delete-dialog")
    dialog.get_by_label("Type DELETE to confirm").fill("DELETE")
    dialog.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/websites")
    assert admin.ok("GET", "/api/websites")["count"] == 0

    # log out
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    b.goto("/websites")
    expect(page).to_have_url(re.compile(re.escape("/login")))


def test_user_sees_own_pages_only(open_browser, api):
    user = api.new_user(password="user-pass-1")
    other = api.new_user()
    other.new_website(name="Not mine")
    b = open_browser()
    page = b.page
    b.login(user.user["username"], "user-pass-1")
    page.get_by_role("button", name="Add website").click()
    page.locator("#website-name").fill("Shop")
    page.locator("#website-domain").fill("shop.example")
    page.locator("#website-create-dialog").get_by_role("button", name="Save").click()
    page.wait_for_url("**/settings")
    assert [w["name"] for w in user.ok("GET", "/api/websites")["data"]] == ["Shop"]
    b.goto("/websites")
    expect(page.get_by_text("Not mine")).to_have_count(0)
    # bad input comes back from the API, named, and nothing is created
    page.get_by_role("button", name="Add website").click()
    page.locator("#website-name").fill("x" * 100)
    page.locator("#website-domain").fill("d.example")
    page.locator("#website-name").evaluate("el => el.removeAttribute('maxlength')")
    page.locator("#website-name").fill("x" * 101)
    page.locator("#website-create-dialog").get_by_role("button", name="Save").click()
    expect(page.locator("#website-create-dialog").get_by_role("alert")).to_contain_text("Name")
    assert user.ok("GET", "/api/websites")["count"] == 1
    b.goto("/settings/users")
    expect(page.get_by_text("Only administrators can see this page.")).to_be_visible()
    b.shot("user-users-forbidden")


def test_view_only_user_has_no_edit_controls(open_browser, api):
    viewer = api.new_user(role="view-only", password="viewer-pass-1")
    b = open_browser()
    page = b.page
    b.login(viewer.user["username"], "viewer-pass-1")
    expect(page.get_by_text("No websites yet")).to_be_visible()
    expect(page.get_by_role("button", name="Add website")).to_have_count(0)
    b.shot("view-only-websites")
    b.goto("/settings/profile")
    expect(page.get_by_test_id("profile-username")).to_have_text(viewer.user["username"])


def test_phone_layout_and_dark_theme(open_browser, api):
    api.admin().new_website(name="Phone site", domain="phone.example")
    b = open_browser(phone=True)
    page = b.page
    b.login("admin", "umami")
    nav = page.get_by_role("complementary", name="Main navigation")
    expect(page.get_by_role("link", name="Phone site")).to_be_visible()
    assert nav.bounding_box()["x"] < 0  # folded away on a phone
    b.shot("phone-websites")
    page.get_by_role("button", name="Open navigation").click()
    expect(nav.get_by_role("link", name="Websites")).to_be_in_viewport()
    b.shot("phone-navigation", full_page=False)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Open navigation").click()
    nav.get_by_role("button", name="Dark theme").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"  # remembered
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(14, 16, 20)"
    b.shot("phone-websites-dark")


def test_test_console_fires_events_through_the_tracker(open_browser, live_server_with, api):
    import sqlalchemy as sa

    from katsuo.store import schema

    website = api.admin().new_website(name="Console target", domain="127.0.0.1")
    b = open_browser(server=live_server_with(enable_test_console=True))
    page = b.page
    b.login("admin", "umami")
    b.goto(f"/console/{website['id']}")
    page.get_by_role("button", name="Send event", exact=True).click()
    page.get_by_label("Event name").fill(EVIL)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_test_id("console-log")).to_contain_text("console-event")
    b.shot("console")

    def names():
        t = schema.website_event
        with api.client.app.state.services.db.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.event_type, t.c.event_name).where(t.c.website_id == website["id"])
            )
            return sorted((row.event_type, row.event_name or "") for row in rows)

    found = eventually(lambda: len(names()) >= 3 and names(), timeout=10)
    assert found == sorted([(1, ""), (2, "console-event"), (2, EVIL)])
