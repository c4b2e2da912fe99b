"""The tracker in a real browser against a live server: every documented option and function,
asserted on the rows the database then holds (website_event, event_data, session, session_data).

Pages live on a third-party origin (`http://shop.test:<port>`) and load the script from Katsuo
(`http://127.0.0.1:<port>/script.js`), as a customer's site does.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import jwt
import pytest

from tests.conftest import APP_SECRET
from tests.e2e.conftest import tracker_page

PAGE_VIEW, CUSTOM_EVENT, PERFORMANCE = 1, 2, 5
STRING, NUMBER, BOOLEAN, DATE, ARRAY = 1, 2, 3, 4, 5


@pytest.fixture
def website(katsuo) -> str:
    return katsuo.new_website()


def serve(
    site,
    katsuo,
    path: str,
    website: str | None,
    *,
    hostname: str = "shop.test",
    src: str | None = None,
    **options,
) -> str:
    """Serve a page embedding the tracker at `path`; return its URL."""
    return site.add(
        path, tracker_page(src or katsuo.url + "/script.js", website, **options), hostname=hostname
    )


def kinds(rows: list[dict]) -> list[int]:
    return sorted(row["event_type"] for row in rows)


def data_of(rows: list[dict]) -> dict[str, tuple[int, object]]:
    """event_data / session_data rows as {key: (data_type, value)}."""
    found = {}
    for row in rows:
        value = {NUMBER: row["number_value"], DATE: row["date_value"]}.get(
            row["data_type"], row["string_value"]
        )
        found[row["data_key"]] = (row["data_type"], value)
    return found


def blank(value) -> bool:
    # PostgreSQL stores an absent referrer/query as NULL; both NULL and '' mean "none".
    return value in (None, "")


# --- page views ------------------------------------------------------------------------------


def test_page_view_on_load_records_the_page_referrer_and_visitor(
    katsuo, site, page, beacons, website
):
    url = serve(site, katsuo, "/load/index.html", website, title="Welcome")
    page.goto(url + "?utm_source=news&q=1#top", referer="https://news.example/article?id=7")

    beacons.wait(page, 1)
    [view] = katsuo.wait_for_rows("website_event", website, 1)
    assert view["event_type"] == PAGE_VIEW
    assert view["url_path"] == "/load/index.html#top"
    assert view["url_query"] == "utm_source=news&q=1"
    assert view["utm_source"] == "news"
    assert view["page_title"] == "Welcome"
    assert view["hostname"] == "shop.test"
    assert (view["referrer_domain"], view["referrer_path"], view["referrer_query"]) == (
        "news.example",
        "/article",
        "id=7",
    )
    assert view["event_name"] is None and view["tag"] is None

    [session] = katsuo.rows("session", website)
    assert session["session_id"] == view["session_id"]
    assert (session["browser"], session["os"], session["device"]) == ("chrome", "Linux", "laptop")
    assert (session["screen"], session["language"]) == ("1280x720", "en-US")
    assert beacons.quiet(page, 400) and len(beacons.sent) == 1, beacons.describe()
    assert len(katsuo.events(website)) == 1


def test_internal_link_gives_a_page_view_without_self_referrer(
    katsuo, site, page, beacons, website
):
    serve(site, katsuo, "/links/b.html", website, title="B")
    url = serve(
        site,
        katsuo,
        "/links/a.html",
        website,
        title="A",
        body='<a id="go" href="/links/b.html">B</a>',
    )
    page.goto(url)
    beacons.wait(page, 1)
    page.click("#go")
    page.wait_for_url("**/links/b.html")
    beacons.wait(page, 2)

    views = katsuo.wait_for_rows("website_event", website, 2)
    assert sorted(v["url_path"] for v in views) == ["/links/a.html", "/links/b.html"]
    assert all(blank(v["referrer_domain"]) and blank(v["referrer_path"]) for v in views)
    # Two full page loads: each starts without a cache token.
    assert ["x-umami-cache" in b.headers for b in beacons.sent] == [False, False]


def test_spa_navigation_tracks_push_and_replace_after_the_title_changed(
    katsuo, site, page, beacons, website
):
    url = serve(site, katsuo, "/app/", website, title="Home")
    page.goto(url)
    beacons.wait(page, 1)

    # The app changes the title 100 ms after the route: the tracker waits 300 ms before reading it.
    page.evaluate("""() => {
        history.pushState({}, '', '/app/products?sort=asc');
        setTimeout(() => { document.title = 'Products'; }, 100);
    }""")
    beacons.wait(page, 2)
    page.evaluate("() => history.replaceState({}, '', '/app/products/42')")
    beacons.wait(page, 3)
    # Not page views: the same URL again, a state without URL, back/forward, a hash change.
    page.evaluate("() => history.pushState({}, '', '/app/products/42')")
    page.evaluate("() => history.pushState({step: 2}, '')")
    page.evaluate("() => history.back()")
    page.evaluate("() => { location.hash = 'reviews'; }")
    assert len(beacons.quiet(page)) == 3, beacons.describe()

    views = katsuo.wait_for_rows("website_event", website, 3)
    assert len(views) == 3 and kinds(views) == [PAGE_VIEW] * 3
    by_path = {v["url_path"]: v for v in views}
    products, item = by_path["/app/products"], by_path["/app/products/42"]
    assert blank(by_path["/app/"]["referrer_domain"])
    assert (products["url_query"], products["page_title"]) == ("sort=asc", "Products")
    assert (products["referrer_domain"], products["referrer_path"]) == ("shop.test", "/app/")
    assert (item["referrer_path"], item["referrer_query"]) == ("/app/products", "sort=asc")
    # One page life, one token: the same session and visit throughout.
    assert len({(v["session_id"], v["visit_id"]) for v in views}) == 1


# --- click events ----------------------------------------------------------------------------


def test_data_attribute_clicks_on_buttons_elements_and_links(
    katsuo, site, page, context, beacons, website
):
    landing = site.add(
        "/landing.html", "<title>Elsewhere</title>Elsewhere", hostname="elsewhere.test"
    )
    serve(site, katsuo, "/clicks/next.html", website, title="Next")
    body = f"""
      <button id="signup" data-umami-event="Signup button" data-umami-event-email="bob@aol.com"
              data-umami-event-id="123"><span id="signup-label">Sign up</span></button>
      <div id="banner" data-umami-event="Banner click" data-umami-event-position="top">
        Banner <em id="banner-inner">inner</em></div>
      <button id="untagged"><span id="tagged-inside" data-umami-event="Ignored">x</span></button>
      <a id="outbound" href="{landing}" target="_blank" data-umami-event="outbound-link-click"
         data-umami-event-url="{landing}">Elsewhere</a>
      <a id="internal" href="/clicks/next.html" data-umami-event="Next page"
         data-umami-event-from="home">Next</a>"""
    url = serve(site, katsuo, "/clicks/index.html", website, title="Clicks", body=body)
    page.goto(url)
    beacons.wait(page, 1)

    page.click("#signup-label")  # inside the button: the button's event
    page.click("#banner")  # any element carrying the attribute
    page.click("#banner-inner")  # a child of it: not the exact element, nothing
    page.click("#tagged-inside")  # inside a button without the attribute: nothing
    beacons.wait(page, 3)
    with context.expect_page() as opened:
        page.click("#outbound")
    opened.value.wait_for_load_state()
    assert opened.value.url == landing  # the new tab still opened
    assert page.url == url
    beacons.wait(page, 4)
    page.click("#internal")
    page.wait_for_url("**/clicks/next.html")  # the navigation still happened, after the event
    beacons.wait(page, 6)

    events = katsuo.wait_for_rows("website_event", website, 4, event_type=CUSTOM_EVENT)
    names = {e["event_name"]: e for e in events}
    assert sorted(names) == ["Banner click", "Next page", "Signup button", "outbound-link-click"]
    assert len(events) == 4
    data = {
        name: data_of(katsuo.rows("event_data", website, website_event_id=e["event_id"]))
        for name, e in names.items()
    }
    assert data["Signup button"] == {"email": (STRING, "bob@aol.com"), "id": (STRING, "123")}
    assert data["Banner click"] == {"position": (STRING, "top")}
    assert data["outbound-link-click"] == {"url": (STRING, landing)}
    assert data["Next page"] == {"from": (STRING, "home")}
    assert names["Next page"]["url_path"] == "/clicks/index.html"
    views = katsuo.events(website, event_type=PAGE_VIEW)
    assert sorted(v["url_path"] for v in views) == ["/clicks/index.html", "/clicks/next.html"]


def test_outbound_link_in_the_same_tab_navigates_after_the_event(
    katsuo, site, page, beacons, website
):
    landing = site.add(
        "/landing.html", "<title>Elsewhere</title>Elsewhere", hostname="elsewhere.test"
    )
    body = f'<a id="out" href="{landing}" data-umami-event="outbound-link-click">Leave</a>'
    page.goto(serve(site, katsuo, "/out/index.html", website, body=body))
    beacons.wait(page, 1)
    page.click("#out")
    page.wait_for_url(landing)
    [event] = katsuo.wait_for_rows("website_event", website, 1, event_type=CUSTOM_EVENT)
    assert event["event_name"] == "outbound-link-click"


# --- tracker functions -----------------------------------------------------------------------


def test_track_in_every_form(katsuo, site, page, beacons, website):
    page.goto(serve(site, katsuo, "/fn/track.html", website, title="Functions"))
    beacons.wait(page, 1)
    page.evaluate("() => umami.track()")
    page.evaluate("() => umami.track('signup-button')")
    page.evaluate("""() => umami.track('purchase', {
        plan: 'pro', seats: 3, price: 9.99, trial: false, tags: ['a', 'b'],
        when: '2026-05-01T10:00:00.000Z', nested: {level: 2}})""")
    page.evaluate(
        f"() => umami.track({{website: '{website}', url: '/custom-path', title: 'Custom title'}})"
    )
    page.evaluate(
        "() => umami.track(props => ({...props, url: '/from-function', name: 'fn-event'}))"
    )
    sent = beacons.wait(page, 6)

    # A payload object is sent as it is, with nothing merged in.
    assert sent[4].payload == {"website": website, "url": "/custom-path", "title": "Custom title"}
    views = katsuo.wait_for_rows("website_event", website, 3, event_type=PAGE_VIEW)
    assert sorted((v["url_path"], v["page_title"]) for v in views) == [
        ("/custom-path", "Custom title"),
        ("/fn/track.html", "Functions"),
        ("/fn/track.html", "Functions"),
    ]
    events = {
        e["event_name"]: e
        for e in katsuo.wait_for_rows("website_event", website, 3, event_type=CUSTOM_EVENT)
    }
    assert sorted(events) == ["fn-event", "purchase", "signup-button"]
    assert events["fn-event"]["url_path"] == "/from-function"
    assert events["fn-event"]["page_title"] == "Functions"  # the defaults came through the function
    assert (
        katsuo.rows("event_data", website, website_event_id=events["signup-button"]["event_id"])
        == []
    )
    purchase = data_of(
        katsuo.rows("event_data", website, website_event_id=events["purchase"]["event_id"])
    )
    assert purchase["plan"] == (STRING, "pro")
    assert purchase["seats"][0] == NUMBER and float(purchase["seats"][1]) == 3
    assert purchase["price"][0] == NUMBER and float(purchase["price"][1]) == 9.99
    assert purchase["trial"] == (BOOLEAN, "false")
    assert purchase["tags"][0] == ARRAY and json.loads(purchase["tags"][1]) == ["a", "b"]
    assert purchase["when"][0] == DATE and purchase["when"][1].isoformat().startswith(
        "2026-05-01T10:00:00"
    )
    assert purchase["nested.level"][0] == NUMBER
    assert len(katsuo.events(website)) == 6


def test_identify_in_every_form(katsuo, site, page, beacons, visitor, website):
    page.goto(serve(site, katsuo, "/fn/identify.html", website))
    beacons.wait(page, 1)
    [anonymous] = katsuo.wait_for_rows("website_event", website, 1)

    page.evaluate("() => umami.identify('user-42')")
    page.evaluate("() => umami.track('after-login')")
    page.evaluate("() => umami.identify('user-42', {name: 'Bob', plan: 'pro'})")
    page.evaluate("() => umami.identify({age: 30})")
    sent = beacons.wait(page, 5)
    assert [b.type for b in sent] == ["event", "identify", "event", "identify", "identify"]
    assert sent[0].answer["cache"] and "x-umami-cache" not in sent[1].headers
    assert [b.payload.get("id") for b in sent] == [None, "user-42", "user-42", "user-42", "user-42"]

    [event] = katsuo.wait_for_rows("website_event", website, 1, event_type=CUSTOM_EVENT)
    identified = event["session_id"]
    assert identified != anonymous["session_id"]
    assert len(katsuo.events(website)) == 2  # identify writes no website_event row
    sessions = {s["session_id"]: s for s in katsuo.rows("session", website)}
    assert sessions[identified]["distinct_id"] == "user-42"
    assert sessions[anonymous["session_id"]]["distinct_id"] is None
    traits = katsuo.wait_for_rows("session_data", website, 3, session_id=uuid.UUID(identified))
    assert {k: v[1] for k, v in data_of(traits).items() if k != "age"} == {
        "name": "Bob",
        "plan": "pro",
    }
    assert data_of(traits)["age"][0] == NUMBER and float(data_of(traits)["age"][1]) == 30
    assert {t["distinct_id"] for t in traits} == {"user-42"}

    # Data without an id lands on the visitor's anonymous session.
    other, other_beacons = visitor()
    other.goto(serve(site, katsuo, "/fn/identify.html", website))
    other_beacons.wait(other, 1)
    other.evaluate("() => umami.identify({company: 'Acme'})")
    other_beacons.wait(other, 2)
    [company] = katsuo.wait_for_rows("session_data", website, 1, data_key="company")
    assert company["session_id"] == anonymous["session_id"] and company["distinct_id"] is None


# --- configuration attributes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "attributes, path, query, referrer_query",
    [
        ({"exclude_search": "true"}, "/x/page.html#frag", None, None),
        ({"exclude_hash": "true"}, "/x/page.html", "q=1&utm_source=ads", "b=1"),
        ({"exclude_search": "true", "exclude_hash": "true"}, "/x/page.html", None, None),
    ],
    ids=["search", "hash", "both"],
)
def test_exclude_search_and_hash(
    katsuo, site, page, beacons, website, attributes, path, query, referrer_query
):
    url = serve(site, katsuo, "/x/page.html", website, **attributes)
    page.goto(url + "?q=1&utm_source=ads#frag", referer="https://news.example/a?b=1#c")
    beacons.wait(page, 1)
    [view] = katsuo.wait_for_rows("website_event", website, 1)
    assert view["url_path"] == path
    assert view["url_query"] == query or (query is None and blank(view["url_query"]))
    assert view["utm_source"] == ("ads" if query else None)
    assert view["referrer_query"] == referrer_query or (
        referrer_query is None and blank(view["referrer_query"])
    )
    assert view["referrer_path"] == "/a"
    if "exclude_hash" in attributes:
        # Only the fragment differs: after normalisation the URL is unchanged, so no page view.
        page.evaluate("() => history.pushState({}, '', '#other')")
        assert len(beacons.quiet(page)) == 1
        assert len(katsuo.events(website)) == 1


def test_domains_restrict_tracking_to_exact_hostnames(katsuo, site, visitor, website):
    url_www = serve(
        site,
        katsuo,
        "/d/page.html",
        website,
        hostname="www.shop.test",
        domains="other.test, shop.test",
    )
    page, beacons = visitor()
    page.goto(url_www)
    page.evaluate("() => umami.track('manual')")
    page.evaluate("() => history.pushState({}, '', '/d/two.html')")
    assert beacons.quiet(page) == [], beacons.describe()
    assert katsuo.events(website) == []

    page, beacons = visitor()
    page.goto(url_www.replace("www.shop.test", "shop.test"))
    beacons.wait(page, 1)
    [view] = katsuo.wait_for_rows("website_event", website, 1)
    assert view["hostname"] == "shop.test"


DNT_ON = "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})"


@pytest.mark.parametrize(
    "respect, browser_dnt, tracked",
    [("true", True, False), ("true", False, True), (None, True, True)],
    ids=["respected", "dnt-off", "not-asked"],
)
def test_do_not_track(katsuo, site, visitor, website, respect, browser_dnt, tracked):
    options = {"do_not_track": respect} if respect else {}
    page, beacons = visitor()
    if browser_dnt:
        page.context.add_init_script(DNT_ON)
    page.goto(serve(site, katsuo, "/dnt/page.html", website, **options))
    assert page.evaluate("() => navigator.doNotTrack") == ("1" if browser_dnt else None)
    page.evaluate("() => umami.track('manual')")
    if tracked:
        beacons.wait(page, 2)
        assert kinds(katsuo.wait_for_rows("website_event", website, 2)) == [PAGE_VIEW, CUSTOM_EVENT]
    else:
        assert beacons.quiet(page) == [], beacons.describe()
        assert katsuo.events(website) == []


HOOKS = """<script>
  window.hookCalls = [];
  function rewrite(type, payload) {
    hookCalls.push(type);
    if (payload.name === 'secret') return false;
    return {...payload, url: payload.url.replace('/private/', '/public/'), tag: 'via-hook'};
  }
  function rewriteLater(type, payload) {
    return new Promise(resolve => setTimeout(() => resolve(rewrite(type, payload)), 50));
  }
</script>"""


@pytest.mark.parametrize("hook", ["rewrite", "rewriteLater"], ids=["function", "promise"])
def test_before_send_modifies_and_cancels(katsuo, site, page, beacons, website, hook):
    page.goto(serve(site, katsuo, "/private/page.html", website, head=HOOKS, before_send=hook))
    beacons.wait(page, 1)
    page.evaluate("() => umami.track('secret')")
    page.evaluate("() => umami.track('visible', {a: 1})")
    page.evaluate("() => umami.identify({plan: 'pro'})")
    sent = beacons.wait(page, 3)
    assert [b.payload.get("name") for b in sent] == [None, "visible", None]
    assert page.evaluate("() => hookCalls") == ["event", "event", "event", "identify"]

    rows = katsuo.wait_for_rows("website_event", website, 2)
    assert sorted(((r["event_name"] or ""), r["url_path"], r["tag"]) for r in rows) == [
        ("", "/public/page.html", "via-hook"),
        ("visible", "/public/page.html", "via-hook"),
    ]
    katsuo.wait_for_rows("session_data", website, 1, data_key="plan")


def test_umami_disabled_in_local_storage_silences_the_tracker(katsuo, site, page, beacons, website):
    url = serve(site, katsuo, "/optout/page.html", website)
    site.add("/optout/settings.html", "<title>Settings</title>")
    # The docs' recipe: set the flag in the console of the site, then browse.
    page.goto(site.origin() + "/optout/settings.html")
    page.evaluate("() => localStorage.setItem('umami.disabled', 1)")
    page.goto(url)
    page.evaluate("() => umami.track('manual')")
    page.evaluate("() => umami.identify('me')")
    assert beacons.quiet(page) == [], beacons.describe()
    assert katsuo.events(website) == [] and katsuo.rows("session", website) == []

    page.evaluate("() => localStorage.removeItem('umami.disabled')")
    page.reload()
    beacons.wait(page, 1)
    assert kinds(katsuo.wait_for_rows("website_event", website, 1)) == [PAGE_VIEW]


def test_cache_token_is_reused_within_a_page_and_forgotten_on_reload(
    katsuo, site, page, beacons, website
):
    page.goto(serve(site, katsuo, "/cache/page.html", website))
    beacons.wait(page, 1)
    page.evaluate("() => umami.track('one')")
    page.evaluate("() => umami.track('two')")
    sent = beacons.wait(page, 3)
    assert "x-umami-cache" not in sent[0].headers
    assert sent[1].headers["x-umami-cache"] == sent[0].answer["cache"]
    assert sent[2].headers["x-umami-cache"] == sent[1].answer["cache"]
    assert page.evaluate("() => umami.getSession()") == {
        "cache": sent[2].answer["cache"],
        "website": website,
    }
    rows = katsuo.wait_for_rows("website_event", website, 3)
    assert len({(r["session_id"], r["visit_id"]) for r in rows}) == 1
    assert {r["visit_id"] for r in rows} == {sent[0].answer["visitId"]}

    page.reload()
    sent = beacons.wait(page, 4)
    assert "x-umami-cache" not in sent[3].headers


def test_server_honours_the_token_the_tracker_sends(katsuo, site, page, beacons, website):
    """The first answer is swapped for a token the test signs itself
    (docs/ids.md#the-cache-token), naming a visit the server could not have derived: later rows
    carry that visit."""
    visit = str(uuid.uuid4())
    swapped = []

    def swap_token(route):
        response = route.fetch()
        answer = response.json()
        claims = {
            "websiteId": website,
            "sessionId": answer["sessionId"],
            "visitId": visit,
            "iat": int(time.time()),
        }
        answer["cache"] = jwt.encode(
            claims, hashlib.sha512(APP_SECRET.encode()).hexdigest(), algorithm="HS256"
        )
        swapped.append(answer["cache"])
        route.fulfill(response=response, body=json.dumps(answer))

    page.route("**/api/send", swap_token, times=1)
    page.goto(serve(site, katsuo, "/cache/forged.html", website))
    beacons.wait(page, 1)
    page.evaluate("() => umami.track('after')")
    sent = beacons.wait(page, 2)
    assert sent[1].headers["x-umami-cache"] == swapped[0]
    [event] = katsuo.wait_for_rows("website_event", website, 1, event_type=CUSTOM_EVENT)
    assert event["visit_id"] == visit


def test_disabled_answer_turns_the_tracker_off(katsuo, site, page, beacons, website):
    def disable(route):
        route.fulfill(response=route.fetch(), body=json.dumps({"disabled": True}))

    page.route("**/api/send", disable, times=1)
    page.goto(serve(site, katsuo, "/off/page.html", website))
    beacons.wait(page, 1)
    page.evaluate("() => umami.track('after')")
    page.evaluate("() => history.pushState({}, '', '/off/two.html')")
    assert len(beacons.quiet(page)) == 1
    assert kinds(katsuo.wait_for_rows("website_event", website, 1)) == [PAGE_VIEW]


def test_tag_is_sent_with_every_hit(katsuo, site, page, beacons, website):
    body = '<button id="b" data-umami-event="Tagged click">b</button>'
    page.goto(serve(site, katsuo, "/tag/page.html", website, tag="homepage-layout-a", body=body))
    beacons.wait(page, 1)
    page.click("#b")
    page.evaluate("() => umami.track('manual')")
    beacons.wait(page, 3)
    rows = katsuo.wait_for_rows("website_event", website, 3)
    assert {r["tag"] for r in rows} == {"homepage-layout-a"}


def test_auto_track_off_leaves_only_manual_calls(katsuo, site, page, beacons, website):
    body = '<button id="b" data-umami-event="Ignored click">b</button>'
    page.goto(serve(site, katsuo, "/manual/page.html", website, auto_track="false", body=body))
    page.click("#b")
    page.evaluate("() => history.pushState({}, '', '/manual/two.html')")
    assert beacons.quiet(page) == [], beacons.describe()
    page.evaluate("() => umami.track()")
    beacons.wait(page, 1)
    [view] = katsuo.wait_for_rows("website_event", website, 1)
    # Without the history hooks the tracker keeps the URL it loaded with
    # (docs/collection.md#the-tracker-script): single-page
    # apps that track by hand pass their route, e.g. umami.track(p => ({...p, url: route})).
    assert (view["event_type"], view["url_path"]) == (PAGE_VIEW, "/manual/page.html")


def test_without_its_script_element_the_tracker_does_nothing(katsuo, site, page, beacons, website):
    # Module scripts have no document.currentScript.
    html = f'<title>m</title><script type="module" src="{katsuo.url}/script.js" data-website-id="{website}"></script>'
    page.goto(site.add("/module/page.html", html))
    assert beacons.quiet(page) == []
    assert page.evaluate("() => typeof window.umami") == "undefined"
    assert katsuo.events(website) == []


def test_web_vitals_beacon_per_route(katsuo, site, page, beacons, website):
    body = "<h1>Performance</h1><p>" + "Some text to paint. " * 50 + "</p>"
    page.goto(serve(site, katsuo, "/perf/one.html", website, performance="true", body=body))
    beacons.wait(page, 1)
    page.wait_for_timeout(200)  # let the first paint happen
    page.evaluate("() => history.pushState({}, '', '/perf/two.html')")  # flushes route one
    sent = beacons.wait(page, 3)
    [first] = [b.payload for b in sent if b.type == "performance"]
    assert first["url"].endswith("/perf/one.html")
    assert {"ttfb", "fcp", "lcp", "duration"} <= set(first)
    # Leaving the page flushes route two from `pagehide` (a keepalive request Playwright does
    # not report once the document is gone: the database shows it arrived).
    page.goto(site.add("/perf/away.html", "<title>Away</title>"))

    rows = katsuo.wait_for_rows("website_event", website, 2, event_type=PERFORMANCE)
    by_path = {r["url_path"]: r for r in rows}
    assert sorted(by_path) == ["/perf/one.html", "/perf/two.html"]
    one, two = by_path["/perf/one.html"], by_path["/perf/two.html"]
    assert one["ttfb"] is not None and one["fcp"] is not None and one["lcp"] is not None
    assert two["ttfb"] is None and two["fcp"] is None  # measured once, for the loaded page
    assert len(katsuo.events(website, event_type=PAGE_VIEW)) == 2


# --- where the script comes from and where it sends ------------------------------------------


def test_self_hosted_copy_sends_to_data_host_url(katsuo, site, visitor, website):
    # The docs' "Hosting the tracker script": a copy on the site's own domain.
    copy = katsuo.api.get("/script.js").content
    src = site.add("/js/analytics.js", copy, content_type="application/javascript")
    for path, host_url in (("/copy/a.html", katsuo.origin), ("/copy/b.html", katsuo.origin + "/")):
        page, beacons = visitor()
        page.goto(serve(site, katsuo, path, website, src=src, host_url=host_url))
        [beacon] = beacons.wait(page, 1)
        assert beacon.url == katsuo.origin + "/api/send"
    views = katsuo.wait_for_rows("website_event", website, 2)
    assert sorted(v["url_path"] for v in views) == ["/copy/a.html", "/copy/b.html"]

    # Without data-host-url the copy sends to its own directory: the static site, not Katsuo.
    page, beacons = visitor()
    page.goto(serve(site, katsuo, "/copy/c.html", website, src=src))
    [beacon] = beacons.wait(page, 1)
    assert beacon.url == site.origin() + "/js/api/send" and beacon.status == 405
    assert len(katsuo.events(website)) == 2


def test_tracker_script_name_and_collect_api_endpoint(katsuo_with, site, visitor):
    server = katsuo_with(
        TRACKER_SCRIPT_NAME="stats.js,/path/to/tracker", COLLECT_API_ENDPOINT="/api/collect-x"
    )
    website = server.new_website()
    for name in ("/stats.js", "/path/to/tracker", "/script.js"):
        page, beacons = visitor(collect_paths=("/api/collect-x", "/api/send"))
        page.goto(serve(site, server, f"/renamed{name}.html", website, src=server.url + name))
        [beacon] = beacons.wait(page, 1)
        assert beacon.url == server.origin + "/api/collect-x" and beacon.status == 200
    views = server.wait_for_rows("website_event", website, 3)
    assert sorted(v["url_path"] for v in views) == [
        "/renamed/path/to/tracker.html",
        "/renamed/script.js.html",
        "/renamed/stats.js.html",
    ]


def test_base_path(katsuo_with, site, visitor):
    server = katsuo_with(BASE_PATH="/analytics")
    website = server.new_website()
    page, beacons = visitor()
    page.goto(serve(site, server, "/based/page.html", website))
    [beacon] = beacons.wait(page, 1)
    assert beacon.url == server.origin + "/analytics/api/send" and beacon.status == 200
    server.wait_for_rows("website_event", website, 1)
