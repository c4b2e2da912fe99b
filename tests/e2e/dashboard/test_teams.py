"""Teams, the team switcher, transfers, links and pixels in Chromium, for a team owner, a member
who is made view-only, and a view-only user; every action is checked through the API."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.dashboard.test_management import EVIL, eventually


def test_team_owner_member_and_view_only_member(open_browser, api):
    owner = api.new_user(password="owner-pass-1")
    member = api.new_user(password="member-pass-1")
    personal = owner.new_website(name="Personal site", domain="me.example")

    b = open_browser()
    page = b.page
    b.login(owner.user["username"], "owner-pass-1")
    b.goto("/settings/teams")
    expect(page.get_by_text("No teams yet")).to_be_visible()
    page.get_by_role("button", name="Create team").click()
    page.get_by_label("Name").fill("Growth")
    with page.expect_navigation():
        page.locator("#team-create-dialog").get_by_role("button", name="Save").click()
    [team] = owner.ok("GET", "/api/teams")["data"]
    expect(page.locator('tr[data-team="Growth"]').get_by_test_id("team-role")).to_have_text("Owner")
    b.shot("teams")

    page.get_by_role("link", name="Growth").first.click()
    expect(page.get_by_test_id("access-code")).to_have_text(team["accessCode"])
    with page.expect_navigation():
        page.get_by_role("button", name="Regenerate").click()
    code = owner.ok("GET", f"/api/teams/{team['id']}")["accessCode"]
    assert code != team["accessCode"] and code.startswith("team_")
    expect(page.get_by_test_id("access-code")).to_have_text(code)

    # the member joins with the code
    m = open_browser()
    m.login(member.user["username"], "member-pass-1")
    m.goto("/settings/teams")
    m.page.get_by_role("button", name="Join team").click()
    m.page.get_by_label("Access code").fill("team_wrong")
    m.page.locator("#team-join-dialog").get_by_role("button", name="Join").click()
    expect(m.page.locator("#team-join-dialog").get_by_role("alert")).to_be_visible()
    m.page.get_by_label("Access code").fill(code)
    with m.page.expect_navigation():
        m.page.locator("#team-join-dialog").get_by_role("button", name="Join").click()
    expect(m.page.locator('tr[data-team="Growth"]').get_by_test_id("team-role")).to_have_text(
        "Member"
    )

    # the owner makes the member view-only
    b.goto(f"/settings/teams/{team['id']}")
    row = page.locator(f'tr[data-member="{member.user["username"]}"]')
    row.get_by_label(f"Role of {member.user['username']}").select_option("team-view-only")
    eventually(
        lambda: (
            owner.ok("GET", f"/api/teams/{team['id']}/users/{member.user['id']}")["role"]
            == "team-view-only"
        )
    )
    b.shot("team")

    # a team website, created from the team's pages reached through the switcher
    page.get_by_role("button", name="Switch between personal and team pages").click()
    page.get_by_role("link", name="Growth").click()
    page.wait_for_url(f"**/teams/{team['id']}/websites")
    expect(page.get_by_test_id("context")).to_have_text("Growth")
    page.get_by_role("button", name="Add website").click()
    page.locator("#website-name").fill("Team site")
    page.locator("#website-domain").fill("team.example")
    page.locator("#website-create-dialog").get_by_role("button", name="Save").click()
    page.wait_for_url("**/settings")
    [team_site] = owner.ok("GET", f"/api/teams/{team['id']}/websites")["data"]
    assert team_site["name"] == "Team site" and team_site["userId"] is None

    # transfer the personal website into the team, then back
    b.goto(f"/websites/{personal['id']}/settings")
    page.get_by_role("button", name="Transfer").click()
    page.get_by_label("Team", exact=True).select_option(team["id"])
    page.locator("#transfer-dialog").get_by_role("button", name="Transfer").click()
    eventually(lambda: owner.ok("GET", f"/api/websites/{personal['id']}")["teamId"] == team["id"])
    # the page reloads as the team's website (the dialog of the old page must be gone first)
    expect(page.get_by_text("Move this website from the team to your own account.")).to_be_visible()
    page.get_by_role("button", name="Transfer").click()
    page.locator("#transfer-dialog").get_by_role("button", name="Transfer").click()
    eventually(
        lambda: owner.ok("GET", f"/api/websites/{personal['id']}")["userId"] == owner.user["id"]
    )

    # the view-only member sees the team's website but no control to change it
    m.goto(f"/teams/{team['id']}/websites")
    expect(m.page.get_by_role("link", name="Team site")).to_be_visible()
    expect(m.page.get_by_role("button", name="Add website")).to_have_count(0)
    m.page.get_by_role("link", name="Team site").click()
    expect(m.page.get_by_test_id("website-name")).to_have_text("Team site")  # its dashboard
    m.page.locator(f'main a[href$="/websites/{team_site["id"]}/settings"]').click()
    m.page.wait_for_url("**/settings")
    for control in ("Save", "Reset", "Delete", "Transfer"):
        expect(m.page.get_by_role("button", name=control)).to_have_count(0)
    expect(m.page.get_by_test_id("share-toggle")).to_have_count(0)
    expect(m.page.get_by_test_id("tracking-code")).to_contain_text(team_site["id"])
    m.shot("team-view-only-website-settings")
    # ... and the server refuses anyway, even from the page's own session
    refused = m.page.evaluate(
        "id => katsuo.api('POST', `/api/websites/${id}`, {name: 'hacked'}).then(() => 'ok', e => e.status)",
        team_site["id"],
    )
    assert refused == 401
    assert owner.ok("GET", f"/api/websites/{team_site['id']}")["name"] == "Team site"
    m.goto(f"/settings/teams/{team['id']}")
    expect(m.page.get_by_role("button", name="Regenerate")).to_have_count(0)
    expect(m.page.get_by_role("button", name="Delete")).to_have_count(0)
    expect(m.page.get_by_role("button", name="Remove")).to_have_count(0)

    # the owner removes the member and deletes the team
    row = page.locator(f'tr[data-member="{member.user["username"]}"]')
    b.goto(f"/settings/teams/{team['id']}")
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Remove").click()
    expect(row).to_have_count(0)
    assert owner.ok("GET", f"/api/teams/{team['id']}/users")["count"] == 1
    page.get_by_role("button", name="Delete").click()
    page.locator("#team-delete-dialog").get_by_role("button", name="Delete").click()
    page.wait_for_url("**/settings/teams")
    assert owner.ok("GET", "/api/teams")["count"] == 0


def test_links_and_pixels(open_browser, api):
    user = api.new_user(password="links-pass-1")
    b = open_browser()
    page = b.page
    b.login(user.user["username"], "links-pass-1")

    page.get_by_role("link", name="Links").click()
    expect(page.get_by_text("No links yet")).to_be_visible()
    page.get_by_role("button", name="Add link").click()
    page.locator("#new-name").fill(EVIL)
    page.locator("#new-url").fill("https://example.com/launch")
    page.locator("#new-slug").fill("launch-2026")
    expect(page.locator("#entity-create-dialog").get_by_test_id("slug-url")).to_have_text(
        f"{b.server.url}/q/launch-2026"
    )
    page.locator("#entity-create-dialog").get_by_role("button", name="Save").click()
    row = page.get_by_test_id("links").locator("tbody tr")
    expect(row.get_by_role("cell").first).to_have_text(EVIL)
    [link] = user.ok("GET", "/api/links")["data"]
    assert (link["name"], link["url"], link["slug"]) == (
        EVIL,
        "https://example.com/launch",
        "launch-2026",
    )
    expect(row.get_by_test_id("public-url")).to_have_text(f"{b.server.url}/q/launch-2026")
    b.shot("links")

    row.get_by_role("button", name="Edit").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Destination URL").fill("https://example.com/v2")
    dialog.get_by_label("Slug", exact=True).fill(
        "short"
    )  # too short: the browser refuses, nothing is sent
    dialog.get_by_role("button", name="Save").click()
    assert user.ok("GET", f"/api/links/{link['id']}")["url"] == "https://example.com/launch"
    dialog.get_by_label("Slug", exact=True).fill("launch-v2")
    dialog.get_by_role("button", name="Save").click()
    eventually(lambda: user.ok("GET", f"/api/links/{link['id']}")["slug"] == "launch-v2")
    assert user.ok("GET", f"/api/links/{link['id']}")["url"] == "https://example.com/v2"
    expect(page.get_by_test_id("links").get_by_test_id("public-url")).to_have_text(
        f"{b.server.url}/q/launch-v2"
    )
    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id("links").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No links yet")).to_be_visible()
    assert user.ok("GET", "/api/links")["count"] == 0

    page.get_by_role("link", name="Pixels").click()
    page.get_by_role("button", name="Add pixel").click()
    page.locator("#new-name").fill("Newsletter")
    slug = page.locator("#new-slug").input_value()
    assert len(slug) == 8  # a random slug is proposed
    page.locator("#entity-create-dialog").get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("pixels").get_by_test_id("public-url")).to_have_text(
        f"{b.server.url}/p/{slug}"
    )
    [pixel] = user.ok("GET", "/api/pixels")["data"]
    assert (pixel["name"], pixel["slug"]) == ("Newsletter", slug)
    b.shot("pixels")

    # a view-only user may not create links or pixels
    viewer = api.new_user(role="view-only", password="viewer-pass-2")
    v = open_browser()
    v.login(viewer.user["username"], "viewer-pass-2")
    for path, button in (("/links", "Add link"), ("/pixels", "Add pixel")):
        v.goto(path)
        expect(v.page.get_by_role("button", name=button)).to_have_count(0)
    v.shot("view-only-pixels")
