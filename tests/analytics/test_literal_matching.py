"""`c.`/`dnc.` filters and `search` parameters match `%`, `_` and backslash as the characters
they are, on DuckDB, PostgreSQL and ClickHouse (Umami leaves `%` and `_` wildcards)."""

from __future__ import annotations

from tests.helpers import Api

START, END = 1_767_225_600_000, 1_769_904_000_000  # 2026-01-01 .. 2026-02-01 UTC
RANGE = {"startAt": str(START), "endAt": str(END)}
# Each text has a twin that a wildcard would also match.
PATHS = ["/50%off", "/50xoff", "/a_b", "/axb", "/back", "/slash"]
TITLES = ["50%", "50x", "a_b", "axb", "back\\slash", "backslash"]  # URLs turn \ into /
VISITORS = ["u_1", "ux1"]
EVENTS = ["50%", "50x"]


def _send(client, website_id: str, url: str, *, distinct_id: str, name: str | None = None) -> None:
    payload = {
        "website": website_id,
        "url": url,
        "hostname": "literal.example",
        "language": "en",
        "title": TITLES[PATHS.index(url)],
        "screen": "1x1",
        "timestamp": (START + 86_400_000) // 1000,
        "id": distinct_id,
    }
    if name:
        payload["name"] = name
    response = client.post(
        "/api/send",
        json={"type": "event", "payload": payload},
        headers={
            "User-Agent": f"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0 {distinct_id}",
            "X-Forwarded-For": f"203.0.113.{len(distinct_id)}",
        },
    )
    assert response.status_code == 200, response.text


def test_wildcard_characters_match_literally(client):
    admin = Api(client).admin()
    website = admin.new_website(domain="literal.example")["id"]
    for i, path in enumerate(PATHS):
        _send(client, website, path, distinct_id=VISITORS[i % 2])
    for name in EVENTS:
        _send(client, website, PATHS[0], distinct_id="events", name=name)
    base = f"/api/websites/{website}"

    def paths(metric: str = "path", **params) -> set[str]:
        return {
            r["x"]
            for r in admin.ok("GET", f"{base}/metrics", params={**RANGE, "type": metric, **params})
        }

    assert paths(path="c.50%") == {"/50%off"}
    assert paths(path="c.A_B") == {"/a_b"}
    assert paths("title", title="c.k\\s") == {"back\\slash"}
    assert paths(path="dnc.50%") == set(PATHS) - {"/50%off"}
    assert paths(search="_") == {"/a_b"}
    assert paths(search="%o") == {"/50%off"}

    values = admin.ok("GET", f"{base}/values", params={**RANGE, "type": "title", "search": "\\"})
    assert [v["value"] for v in values] == ["back\\slash"]
    values = admin.ok(
        "GET", f"{base}/values", params={**RANGE, "type": "path", "search": "/A_B,/50%OFF"}
    )
    assert {v["value"] for v in values} == {"/a_b", "/50%off"}

    def sessions(search: str) -> int:  # one session per distinct id (its own User-Agent)
        return admin.ok("GET", f"{base}/sessions", params={**RANGE, "search": search})["count"]

    assert (sessions("u_1"), sessions("1")) == (1, 2)
    # Custom events by name, page views by path.
    events = admin.ok("GET", f"{base}/events", params={**RANGE, "search": "50%"})["data"]
    assert sorted((e["eventType"], e["eventName"] or e["urlPath"]) for e in events) == [
        (1, "/50%off"),
        (2, "50%"),
    ]
