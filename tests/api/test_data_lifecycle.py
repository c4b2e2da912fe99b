"""What happens to collected data when its website, link or pixel is deleted or reset, on every
engine including ClickHouse (embedded chdb, the management tables on DuckDB): statistics go with
their entity, the events store is emptied only once the management change committed, a purge
that fails is retried, and the id of a deleted entity is never handed out again."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from katsuo.store import schema
from katsuo.store.repositories import collected, websites
from tests.collect.conftest import UA, send
from tests.conftest import WITH_CLICKHOUSE

EVENT_TABLES = ("session", "website_event", "event_data")
SLICE_TABLES = ("katsuo_slice_pending",)
PATHS = {"links": "q", "pixels": "p"}


@pytest.fixture(scope="session", params=WITH_CLICKHOUSE)
def engine(request) -> str:
    return request.param


def _rows(services, table: str, entity_id: str) -> int:
    """Rows of `table` collected for the id, read where that table lives."""
    db = services.db.events if table in EVENT_TABLES + ("session_data", "revenue") else services.db
    t = schema.metadata.tables[table]
    with db.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(t).where(t.c.website_id == entity_id)
        ).scalar()


def _collected(services, entity_id: str) -> dict[str, int]:
    tables = EVENT_TABLES if services.db.separate_events else EVENT_TABLES + SLICE_TABLES
    return {table: _rows(services, table, entity_id) for table in tables}


def _hits(client, website: str, count: int = 3) -> None:
    for index in range(count):
        response = send(
            client,
            {
                "website": website,
                "url": f"/page-{index}",
                "hostname": "example.com",
                "name": "signup",
                "data": {"plan": "pro"},
            },
            headers={"X-Forwarded-For": f"203.0.113.{index + 1}"},
        )
        assert response.status_code == 200, response.text


def _queued(services) -> int:
    with services.db.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(schema.purge)).scalar()


@pytest.mark.parametrize("kind", ["links", "pixels"])
def test_deleting_a_link_or_pixel_deletes_its_statistics(api, client, services, kind):
    owner = api.new_user()
    body = {"name": "Spring", "slug": "spring-offer"} | (
        {"url": "https://example.com/x"} if kind == "links" else {}
    )
    entity = owner.ok("POST", f"/api/{kind}", body)
    for ip in ("203.0.113.7", "203.0.113.8"):
        response = client.get(
            f"/{PATHS[kind]}/spring-offer",
            headers={"User-Agent": UA, "X-Forwarded-For": ip},
            follow_redirects=False,
        )
        assert response.status_code in (200, 307)
    before = _collected(services, entity["id"])
    assert before["website_event"] == 2 and before["session"] == 2
    other = owner.ok("POST", "/api/websites", {"name": "Kept", "domain": "kept.example"})["id"]
    _hits(client, other, 1)

    assert owner.ok("DELETE", f"/api/{kind}/{entity['id']}") == {"ok": True}
    assert set(_collected(services, entity["id"]).values()) == {0}
    assert _collected(services, other)["website_event"] == 1  # nobody else's
    assert _queued(services) == 0


@pytest.mark.events_store  # with one store the rows go in the management transaction itself
def test_website_delete_empties_the_events_store_only_after_the_management_commit(
    api, client, services
):
    admin = api.admin()
    website = admin.new_website()["id"]
    _hits(client, website)
    seen_at_commit = []

    def on_commit(conn):
        # The management transaction is committing: the collected rows must all still be there.
        seen_at_commit.append(_rows(services, "website_event", website))

    sa.event.listen(services.db.engine, "commit", on_commit)
    try:
        assert admin.ok("DELETE", f"/api/websites/{website}") == {"ok": True}
    finally:
        sa.event.remove(services.db.engine, "commit", on_commit)
    # The request's transaction commits first (the purge's bookkeeping commits after it): no
    # collected row was gone from ClickHouse before it.
    assert seen_at_commit and seen_at_commit[0] == 3
    assert set(_collected(services, website).values()) == {0}


def test_a_rolled_back_delete_or_reset_keeps_the_events(api, client, services):
    admin = api.admin()
    website = admin.new_website()["id"]
    _hits(client, website)
    for change in (websites.delete, websites.reset):
        with pytest.raises(RuntimeError, match="commit failed"), services.db.begin() as conn:
            change(conn, uuid.UUID(website))
            raise RuntimeError("commit failed")
        collected.purge(services.db)  # a purge now must find nothing queued
        assert _collected(services, website)["website_event"] == 3
    assert admin.ok("GET", f"/api/websites/{website}")["resetAt"] is None


@pytest.mark.events_store  # with one store the delete takes the rows itself: nothing to purge
def test_a_failed_purge_stays_queued_the_id_unreachable_and_is_retried(
    api, client, services, monkeypatch
):
    admin = api.admin()
    website = admin.new_website()["id"]
    _hits(client, website)

    def unreachable(*args):
        raise ConnectionError("ClickHouse is down")

    monkeypatch.setattr(collected, "_purge_events", unreachable)
    assert admin.ok("DELETE", f"/api/websites/{website}") == {"ok": True}
    assert _queued(services) == 1 and _collected(services, website)["website_event"] == 3
    # The rows are orphans nobody can reach: the website is gone, its id cannot be taken again.
    assert (
        admin.get(
            f"/api/websites/{website}/stats", params={"startAt": 0, "endAt": 2**41}
        ).status_code
        == 404
    )
    again = admin.post("/api/websites", {"id": website, "name": "Thief", "domain": "x.example"})
    assert again.status_code == 400 and "already in use" in again.json()["error"]["message"]

    monkeypatch.undo()
    assert collected.purge(services.db) == 0
    assert _queued(services) == 0 and set(_collected(services, website).values()) == {0}


def test_reset_empties_the_events_store_after_commit(api, client, services):
    admin = api.admin()
    website = admin.new_website()["id"]
    _hits(client, website)
    assert admin.ok("POST", f"/api/websites/{website}/reset") == {"ok": True}
    assert set(_collected(services, website).values()) == {0}
    assert _queued(services) == 0
    _hits(client, website, 1)  # collecting goes on after a reset
    assert _collected(services, website)["website_event"] == 1


def test_deleting_a_user_deletes_their_websites_data_after_commit(api, client, services):
    user = api.new_user()
    website = user.new_website()["id"]
    _hits(client, website)
    assert api.admin().ok("DELETE", f"/api/users/{user.user['id']}") == {"ok": True}
    assert set(_collected(services, website).values()) == {0}
    assert _queued(services) == 0


def test_after_commit_actions_run_only_once_the_change_is_stored(services):
    from katsuo.store.database import after_commit

    ran = []
    with pytest.raises(RuntimeError, match="rolled back"), services.db.begin() as conn:
        after_commit(conn, lambda: ran.append("after a rollback"))
        raise RuntimeError("rolled back")
    with services.db.begin() as conn:
        after_commit(conn, lambda: 1 / 0)  # logged; the change stays committed, the next runs
        after_commit(conn, lambda: ran.append("after the commit"))
    assert ran == ["after the commit"]
    with services.db.connect() as conn, pytest.raises(RuntimeError, match="Database.begin"):
        after_commit(conn, lambda: None)


@pytest.mark.events_store  # with one store the delete takes the rows itself: nothing to purge
def test_a_user_delete_commits_though_the_events_store_fails_and_the_next_removal_retries(
    api, client, services, monkeypatch, caplog
):
    admin = api.admin()
    user = api.new_user()
    website = user.new_website()["id"]
    kept = admin.new_website()["id"]
    _hits(client, website)

    def unreachable(*args):
        raise ConnectionError("ClickHouse is down")

    monkeypatch.setattr(collected, "_purge_events", unreachable)
    assert admin.ok("DELETE", f"/api/users/{user.user['id']}") == {"ok": True}
    # The management change is committed, the failure logged, the deletion still queued.
    assert admin.get(f"/api/users/{user.user['id']}").status_code == 404
    assert "could not delete the collected data" in caplog.text
    assert _queued(services) == 1 and _collected(services, website)["website_event"] == 3

    monkeypatch.undo()
    assert admin.ok("POST", f"/api/websites/{kept}/reset") == {"ok": True}  # the next removal
    assert _queued(services) == 0 and set(_collected(services, website).values()) == {0}
