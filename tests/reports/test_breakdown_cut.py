"""The breakdown's top 500: more combinations than that, most of them tied, cut where every engine
cuts — by visitors, then views, then the field texts in ascending order with a missing value
last. (ClickHouse groups on a hash of the fields and labels the rows afterwards; its ties must
still fall as the texts rank.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from katsuo.analytics import dialects
from katsuo.analytics.reports import breakdown
from tests.helpers import admin_with_website, post_report
from tests.reports import traffic

TOP = 500
PATHS = 560


def _view(client, website: str, visitor: int, path: str, referrer: str | None) -> None:
    payload = {
        "website": website,
        "url": f"https://cut.example.com{path}",
        "hostname": "cut.example.com",
        "referrer": f"https://{referrer}/from" if referrer else "",
        "timestamp": int((traffic.START + timedelta(hours=1, seconds=visitor)).timestamp()),
        "title": "Cut",
    }
    headers = {
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "X-Forwarded-For": f"10.9.{visitor // 250}.{visitor % 250 + 1}",
    }
    response = client.post("/api/send", json={"type": "event", "payload": payload}, headers=headers)
    assert response.status_code == 200, response.text


def test_breakdown_cut_ranks_ties_by_text(data):
    _check_cut(data, "Cut")


@pytest.mark.events_store  # only ClickHouse groups the breakdown on a hash of its fields
def test_breakdown_with_colliding_keys_counts_on_the_texts(data, monkeypatch):
    """Where the engine groups on a hash of the fields, two combinations sharing a key are
    detected and counted apart: here every combination gets the same key."""
    monkeypatch.setattr(
        dialects.ClickHouse,
        "combination",
        lambda self, texts: sa.func.toUInt64(0, type_=sa.BigInteger),
    )
    _check_cut(data, "Collide")


@pytest.mark.events_store
def test_breakdown_with_too_many_ties_to_label_counts_on_the_texts(data, monkeypatch):
    """More rows tied at the cut than are labelled by key: the rows are counted on the texts."""
    monkeypatch.setattr(breakdown, "MAX_LABELLED", TOP + 10)

    def not_labelled(*args):
        raise AssertionError("rows labelled by key despite the ties")

    monkeypatch.setattr(breakdown, "_labels", not_labelled)
    _check_cut(data, "Ties")


def _check_cut(data, name: str) -> None:
    client = data.client
    _, website = admin_with_website(client, name, "cut.example.com")
    views: list[tuple[str, str | None]] = []  # one per visitor, in the order sent
    for i in range(PATHS):
        # Paths sent in an order unlike their text order; a quarter without a referrer.
        path = f"/p{(i * 7919) % PATHS:04d}"
        views.append((path, None if i % 4 == 0 else f"r{i % 3}.example.net"))
    # Combinations seen by a second visitor rank first; one path both with and without a
    # referrer, tied, puts the missing referrer after the named one.
    views += [views[5], views[9], ("/p0003", None), ("/p0003", "r9.example.net")]
    for visitor, (path, referrer) in enumerate(views):
        _view(client, website, visitor, path, referrer)

    visitors: dict[tuple[str, str | None], int] = {}
    for combination in views:
        visitors[combination] = visitors.get(combination, 0) + 1
    ranked = sorted(
        visitors.items(),
        key=lambda item: (-item[1], item[0][0], item[0][1] is None, item[0][1] or ""),
    )
    assert len(ranked) > TOP + 50
    expected = [
        {"path": path, "referrer": referrer, "visitors": n, "views": n}
        for (path, referrer), n in ranked[:TOP]
    ]

    body = post_report(
        client,
        data.token,
        website,
        "breakdown",
        traffic.START,
        traffic.END,
        fields=["path", "referrer"],
    )
    found = [{k: row[k] for k in ("path", "referrer", "visitors", "views")} for row in body]
    assert found == expected
