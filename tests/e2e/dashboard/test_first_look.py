"""What a new user notices first, in Chromium against the live server: the site's icon, a page
(not JSON) for an address that does not exist, the reminder to change the documented default
password, a phone-width screen without sideways scrolling, and the sidebar as tall as the page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.dashboard.hits import send, wait_for_views

LONG_PATH = "/blog/" + "-".join(["a-very-long-article-title"] * 4)


def test_favicon_on_every_page_and_at_favicon_ico(open_browser):
    b = open_browser()
    page = b.page
    for path in ["/login", "/no-such-page"]:
        b.goto(path)
        href = page.locator("link[rel=icon]").get_attribute("href")
        icon = page.request.get(b.server.url + href)
        assert icon.status == 200 and icon.headers["content-type"] == "image/svg+xml", path
        assert icon.text().startswith("<svg")
    root_icon = page.request.get(b.server.url + "/favicon.ico")
    assert root_icon.status == 200 and root_icon.headers["content-type"] == "image/svg+xml"
    assert root_icon.body() == icon.body()


def test_an_unknown_address_is_a_page_and_the_api_stays_json(open_browser):
    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    response = page.goto(b.server.url + "/websites-typo/nothing")
    assert response.status == 404 and response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    b.shot("not-found")
    page.get_by_role("link", name="Back to websites").click()
    page.wait_for_url("**/websites")
    api = page.request.get(b.server.url + "/api/no-such-endpoint")
    assert api.status == 404 and api.json()["error"]["code"] == "not-found"


def test_default_password_reminder_until_it_is_changed(open_browser, api):
    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    reminder = page.get_by_test_id("default-password")
    expect(reminder).to_be_visible()
    b.shot("default-password-reminder", full_page=False)
    reminder.get_by_role("link", name="Change your password").click()
    page.wait_for_url("**/settings/profile")

    def change(current: str, new: str) -> None:
        page.get_by_role("button", name="Change password").click()
        page.get_by_label("Current password").fill(current)
        page.get_by_label("New password").fill(new)
        page.locator("#password-dialog").get_by_role("button", name="Save").click()
        expect(page.get_by_text("Password changed")).to_be_visible()

    change("umami", "a-better-secret-1")
    b.goto("/websites")
    expect(page.get_by_test_id("default-password")).to_have_count(0)
    assert api.login("admin", "a-better-secret-1").token

    # The documented default is 5 characters: the form lets it be set back (and it reminds again).
    b.goto("/settings/profile")
    expect(page.get_by_text("at least 5 characters")).to_be_visible()
    change("a-better-secret-1", "umami")
    b.goto("/websites")
    expect(page.get_by_test_id("default-password")).to_be_visible()
    assert api.login("admin", "umami").token


def _overflow(page) -> list[str]:
    """Elements wider than the screen that the page would scroll sideways for (not those inside
    a container that scrolls by itself, like a wide table or the tab bar)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
            const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
          const wide = [...document.querySelectorAll('body *')].filter((el) => {
            const box = el.getBoundingClientRect();
            return box.width && box.right > width + 1 && !scrolls(el) && getComputedStyle(el).position !== 'fixed';
          }).map((el) => el.tagName + '.' + el.className);
          if (document.documentElement.scrollWidth > width) wide.unshift('document ' + document.documentElement.scrollWidth);
          return wide;
        }"""
    )


def test_phone_width_never_scrolls_sideways(open_browser, api):
    admin = api.admin()
    website = admin.new_website(name="Shop", domain="shop.example")["id"]
    for n, path in enumerate(["/", "/pricing", LONG_PATH]):
        send(api, website, ip=f"203.0.113.{n + 1}", url=path)
        send(api, website, ip=f"203.0.113.{n + 1}", url=path, event="signup", data={"plan": "pro"})
    wait_for_views(admin, website, 3)
    b = open_browser(phone=True)
    page = b.page
    page.set_viewport_size({"width": 375, "height": 812})
    b.login("admin", "umami")
    screens = ["", "/realtime", "/sessions", "/events", "/reports", "/segments", "/settings"]
    for screen in screens:
        b.goto(f"/websites/{website}{screen}")
        assert _overflow(page) == [], screen
    for path in ["/websites", "/settings/profile", "/settings/users", "/settings/teams"]:
        b.goto(path)
        assert _overflow(page) == [], path

    # The breakdown with several columns: its table scrolls inside the results, the page does not.
    b.goto(f"/websites/{website}/reports/new/breakdown")
    for label in ["Browser", "Country", "Device", "OS"]:
        page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_test_id("breakdown").locator("tbody tr")).to_have_count(3)
    assert _overflow(page) == []
    b.shot("phone-breakdown")


def test_the_sidebar_background_reaches_the_bottom_of_a_long_page(open_browser, api):
    admin = api.admin()
    website = admin.new_website(name="Shop", domain="shop.example")["id"]
    for n in range(25):
        send(api, website, ip=f"198.51.100.{n + 1}", url=f"/page-{n}")
    wait_for_views(admin, website, 25)
    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    b.goto(f"/websites/{website}/events")
    expect(page.get_by_test_id("events").locator("tbody tr")).to_have_count(20)
    column = page.evaluate(
        """() => {
          const app = document.querySelector('.app'), side = document.querySelector('.sidebar');
          const behind = getComputedStyle(app, '::before');
          return { page: document.documentElement.scrollHeight, column: parseFloat(behind.height),
                   screen: innerHeight, behind: behind.backgroundColor,
                   sidebar: getComputedStyle(side).backgroundColor };
        }"""
    )
    assert column["page"] > column["screen"] * 1.5  # a long page
    assert abs(column["column"] - column["page"]) <= 1
    assert column["behind"] == column["sidebar"]
    b.shot("sidebar-long-page")
