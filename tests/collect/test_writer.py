"""The group-committing writer: hooks run inside its transaction, concurrent hits share
transactions, a failing hit fails alone, and closing drains the queue."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from katsuo.collect.rows import Batch, EventRow, SessionRow
from katsuo.collect.writer import Writer, WriterClosed
from katsuo.store import schema


def _event(website_id: str, path: str) -> EventRow:
    now = datetime.now(UTC)
    session = str(uuid.uuid4())
    return EventRow(str(uuid.uuid4()), website_id, session, str(uuid.uuid4()), now, path, "", None, None,
                    None, None, None, None, None, None, None, None, None, None, None, None, None, 1, None,
                    None, "example.com", None, None, None, None, None)


def _count(services, website_id: str) -> int:
    t = schema.website_event
    with services.db.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(t.c.website_id == website_id)).scalar()


@pytest.fixture
def writer(app, services):
    writer = Writer(services.db)
    yield writer
    writer.close()


def test_hooks_see_the_batch_inside_the_transaction(writer, services):
    website = str(uuid.uuid4())
    seen = []

    def hook(conn, batch):
        t = schema.website_event
        visible = conn.execute(sa.select(sa.func.count()).where(t.c.website_id == website)).scalar()
        seen.append((len(batch.events), visible))

    writer.hooks.append(hook)
    writer.write_blocking(Batch(events=[_event(website, "/a"), _event(website, "/b")]))
    assert seen == [(2, 2)]


def test_a_failing_hook_fails_the_batch_and_nothing_is_stored(writer, services):
    website = str(uuid.uuid4())

    def hook(conn, batch):
        raise RuntimeError("derived table is broken")

    writer.hooks.append(hook)
    with pytest.raises(RuntimeError):
        writer.write_blocking(Batch(events=[_event(website, "/a")]))
    assert _count(services, website) == 0


def test_concurrent_hits_share_transactions_and_all_land(writer, services):
    website = str(uuid.uuid4())
    gate = threading.Event()

    def slow_hook(conn, batch):
        gate.wait(5)  # the first transaction holds while the others queue up

    writer.hooks.append(slow_hook)
    threads = [threading.Thread(target=writer.write_blocking, args=(Batch(events=[_event(website, f"/{i}")]),))
               for i in range(40)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert _count(services, website) == 40
    assert writer.batches < 40  # the queued hits were committed together


def test_one_bad_hit_fails_alone(writer, services):
    website = str(uuid.uuid4())
    good = [Batch(events=[_event(website, f"/{i}")]) for i in range(5)]
    bad = Batch(events=[_event(website, "/x")._replace(event_type=None)])  # NOT NULL column
    errors = []

    def send(batch):
        try:
            writer.write_blocking(batch)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=send, args=(b,)) for b in [*good[:2], bad, *good[2:]]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(errors) == 1
    assert _count(services, website) == 5


def test_first_session_write_wins(writer, services):
    session = str(uuid.uuid4())
    now = datetime.now(UTC)

    def row(browser):
        return SessionRow(session, str(uuid.uuid4()), browser, None, None, None, None, None, None, None, None, now)

    writer.write_blocking(Batch(sessions=[row("chrome"), row("firefox")]))
    writer.write_blocking(Batch(sessions=[row("safari")]))
    with services.db.connect() as conn:
        browsers = conn.execute(sa.select(schema.session.c.browser).where(
            schema.session.c.session_id == uuid.UUID(session))).scalars().all()
    assert browsers == ["chrome"]


def test_close_drains_the_queue_then_refuses(services, app):
    writer = Writer(services.db)
    website = str(uuid.uuid4())
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(
        writer.write_blocking(Batch(events=[_event(website, f"/{i}")])))) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    writer.close()
    assert _count(services, website) == 30
    with pytest.raises(WriterClosed):
        writer.write_blocking(Batch(events=[_event(website, "/late")]))


def _session(session: str, browser: str) -> SessionRow:
    return SessionRow(session, str(uuid.uuid4()), browser, None, None, None, None, None, None, None, None,
                      datetime.now(UTC))


def _browsers(services, session: str) -> list[str]:
    t = schema.session
    with services.db.connect() as conn:
        return conn.execute(sa.select(t.c.browser).where(t.c.session_id == uuid.UUID(session))).scalars().all()


def test_a_session_stored_behind_the_writers_back_still_wins(writer, services):
    """The writer inserts sessions it does not know without a conflict check when it believes it
    knows every stored one (DuckDB); a row it could not know about must neither fail the hit nor
    be overwritten."""
    writer.write_blocking(Batch(sessions=[_session(str(uuid.uuid4()), "chrome")]))  # ids loaded
    session, website = str(uuid.uuid4()), str(uuid.uuid4())
    with services.db.begin() as conn:
        services.db.engines.insert_rows(conn, "session", SessionRow._fields, [_session(session, "opera")])
    event = _event(website, "/a")._replace(session_id=session)
    writer.write_blocking(Batch(sessions=[_session(session, "firefox")], events=[event]))
    assert _browsers(services, session) == ["opera"]
    assert _count(services, website) == 1
    # Later hits of the same visitor go through as well (the stored ids were learnt again).
    writer.write_blocking(Batch(sessions=[_session(session, "safari")], events=[_event(website, "/b")]))
    assert _browsers(services, session) == ["opera"]
    assert _count(services, website) == 2


def test_sessions_deleted_and_forgotten_are_written_again(writer, services):
    session = str(uuid.uuid4())
    writer.write_blocking(Batch(sessions=[_session(session, "chrome")]))
    t = schema.session
    with services.db.begin() as conn:
        conn.execute(t.delete().where(t.c.session_id == uuid.UUID(session)))
    writer.forget_sessions()
    writer.write_blocking(Batch(sessions=[_session(session, "firefox")]))
    assert _browsers(services, session) == ["firefox"]
