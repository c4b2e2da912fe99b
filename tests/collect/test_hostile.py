"""Nothing a client sends makes /api/send answer 500: odd, huge, deep and broken inputs get a
200 or a 4xx, and whatever is accepted is stored."""

from __future__ import annotations

import uuid

import orjson
import pytest

from tests.collect.conftest import UA


def hostile_payloads(website: str) -> list[bytes]:
    def event(**payload):
        return orjson.dumps({"type": "event", "payload": {"website": website, **payload}})

    deep = (
        b'{"type":"event","payload":{"website":"'
        + website.encode()
        + b'","data":'
        + b'{"x":' * 900
        + b"1"
        + b"}" * 902
    )
    return [
        event(title="nul\x00in title", url="/a\x00b", name="n\x00", data={"k\x00": "v\x00"}),
        deep,
        event(data={"n": 1e308, "m": -1e308, "i": 2**63 - 1, "small": 5e-324}),
        event(data={"revenue": 1e300, "currency": "USD"}, name="buy"),
        event(data={"revenue": "1e400", "currency": "X" * 1000}, name="buy"),
        event(url="http://[::1", referrer="https://exa mple.com/"),
        event(url="/" + "é" * 5000, referrer="https://r.example/" + "%" * 3000, title="%E0%A4%A"),
        event(hostname="bad host/name", url="relative"),
        event(url="/?utm_source=" + "u" * 5000 + "&gclid=" + "g" * 300),
        event(screen="x", language="", tag="", id=""),
        event(data={"d": "2024-02-30T10:00:00.000Z", "e": "9999-12-31T23:59:59.999+14:00"}),
        event(data={str(i): [i] * 100 for i in range(200)}),
        event(timestamp=0, userAgent="", ip="::ffff:999.1.1.1"),
        event(ip="2001:db8::1%eth0", browser="", os="", device=""),
        b'{"type":"event","payload":{"website":"' + website.encode() + b'","title":"\\ud800"}}',
        b'{"type":"event","payload":{"website":"' + website.encode() + b'","data":{"a":1e999}}}',
        b"\xff\xfe garbage",
        b"{" * 5000,
        b'{"type":"identify","payload":{"website":"' + website.encode() + b'","data":null}}',
        orjson.dumps(
            {"type": "performance", "payload": {"website": website, "lcp": True, "cls": "1"}}
        ),
    ]


def test_no_500_for_any_of_these(client, website, stored):
    statuses = []
    for raw in hostile_payloads(website):
        response = client.post("/api/send", content=raw, headers={"User-Agent": UA})
        assert response.status_code < 500, (raw[:120], response.text)
        statuses.append(response.status_code)
    assert 200 in statuses and 400 in statuses
    accepted = stored("website_event", website_id=uuid.UUID(website))
    assert len(accepted) == statuses.count(200)
    assert all("\x00" not in (row["page_title"] or "") + row["url_path"] for row in accepted)


@pytest.mark.parametrize("raw", [b"[1, 2]", b"{}", b"null", b'[{"type": 1}]'])
def test_batch_never_500(client, raw):
    assert client.post("/api/batch", content=raw, headers={"User-Agent": UA}).status_code < 500
