"""The group-committing writer: hooks run inside its transaction, concurrent hits share
transactions, a failing hit fails alone, and closing drains the queue."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from katsuo.collect.rows import Batch, SessionRow
from katsuo.collect.writer import Writer, WriterClosed
from katsuo.store import schema
from tests.collect.conftest import event_row


def _count(services, website_id: str) -> int:
    t = schema.website_event
    with services.db.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(t.c.website_id == website_id)).scalar()


@pytest.fixture(params=["commit", "journal"])
def writer(request, app, services, tmp_path):
    """The writer both ways: answering once a group of hits is committed (PostgreSQL,
    ClickHouse), or once it is in the journal, applied to the store behind it (DuckDB)."""
    writer = Writer(
        services.db, journal_dir=tmp_path / "journal" if request.param == "journal" else None
    )
    server_sync = services.db.before_connect
    if writer.journaled:  # as the server does: reads wait for this writer's acknowledged hits
        services.db.before_connect = writer.sync
    yield writer
    writer.close()
    services.db.before_connect = server_sync


def test_hooks_see_the_batch_inside_the_transaction(writer, services):
    website = str(uuid.uuid4())
    seen = []

    def hook(conn, batch):
        t = schema.website_event
        visible = conn.execute(sa.select(sa.func.count()).where(t.c.website_id == website)).scalar()
        seen.append((len(batch.events), visible))

    writer.hooks.append(hook)
    writer.write_blocking(Batch(events=[event_row(website, "/a"), event_row(website, "/b")]))
    writer.sync()
    assert seen == [(2, 2)]


def test_a_failing_hook_fails_the_batch_and_nothing_is_stored(writer, services):
    website = str(uuid.uuid4())
    calls = []

    def hook(conn, batch):
        calls.append(len(batch.events))
        raise RuntimeError("derived table is broken")

    writer.hooks.append(hook)
    if writer.journaled:  # acknowledged once in the journal: the applier gives up on it later
        writer.write_blocking(Batch(events=[event_row(website, "/a")]))
    else:
        with pytest.raises(RuntimeError):
            writer.write_blocking(Batch(events=[event_row(website, "/a")]))
    assert _count(services, website) == 0
    # The transaction was tried (and retried), so the empty count is the rollback's doing, not
    # a write that never happened.
    assert calls and set(calls) == {1}


def test_concurrent_hits_share_transactions_and_all_land(writer, services):
    website = str(uuid.uuid4())
    gate = threading.Event()

    def slow_hook(conn, batch):
        gate.wait(5)  # the first transaction holds while the others queue up

    writer.hooks.append(slow_hook)
    threads = [
        threading.Thread(
            target=writer.write_blocking, args=(Batch(events=[event_row(website, f"/{i}")]),)
        )
        for i in range(40)
    ]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert _count(services, website) == 40
    assert writer.batches < 40  # the queued hits were committed together


def test_one_bad_hit_fails_alone(writer, services):
    website = str(uuid.uuid4())
    good = [Batch(events=[event_row(website, f"/{i}")]) for i in range(5)]
    bad = Batch(events=[event_row(website, "/x")._replace(event_type=None)])  # NOT NULL column
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
    assert len(errors) == (0 if writer.journaled else 1)
    assert _count(services, website) == 5


def test_first_session_write_wins(writer, services):
    session = str(uuid.uuid4())
    now = datetime.now(UTC)

    def row(browser):
        return SessionRow(
            session, str(uuid.uuid4()), browser, None, None, None, None, None, None, None, None, now
        )

    writer.write_blocking(Batch(sessions=[row("chrome"), row("firefox")]))
    writer.write_blocking(Batch(sessions=[row("safari")]))
    with services.db.connect() as conn:
        browsers = (
            conn.execute(
                sa.select(schema.session.c.browser).where(
                    schema.session.c.session_id == uuid.UUID(session)
                )
            )
            .scalars()
            .all()
        )
    assert browsers == ["chrome"]


def test_close_drains_the_queue_then_refuses(writer, services):
    website = str(uuid.uuid4())
    results = []
    threads = [
        threading.Thread(
            target=lambda i=i: results.append(
                writer.write_blocking(Batch(events=[event_row(website, f"/{i}")]))
            )
        )
        for i in range(30)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    writer.close()
    assert _count(services, website) == 30
    with pytest.raises(WriterClosed):
        writer.write_blocking(Batch(events=[event_row(website, "/late")]))


def _session(session: str, browser: str) -> SessionRow:
    return SessionRow(
        session,
        str(uuid.uuid4()),
        browser,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        datetime.now(UTC),
    )


def _browsers(services, session: str) -> list[str]:
    t = schema.session
    with services.db.connect() as conn:
        return (
            conn.execute(sa.select(t.c.browser).where(t.c.session_id == uuid.UUID(session)))
            .scalars()
            .all()
        )


def test_a_session_stored_behind_the_writers_back_still_wins(writer, services):
    """The writer inserts sessions it does not know without a conflict check when it believes it
    knows every stored one (DuckDB); a row it could not know about must neither fail the hit nor
    be overwritten."""
    writer.write_blocking(Batch(sessions=[_session(str(uuid.uuid4()), "chrome")]))  # ids loaded
    session, website = str(uuid.uuid4()), str(uuid.uuid4())
    with services.db.begin() as conn:
        services.db.engines.insert_rows(
            conn, "session", SessionRow._fields, [_session(session, "opera")]
        )
    event = event_row(website, "/a")._replace(session_id=session)
    writer.write_blocking(Batch(sessions=[_session(session, "firefox")], events=[event]))
    assert _browsers(services, session) == ["opera"]
    assert _count(services, website) == 1
    # Later hits of the same visitor go through as well (the stored ids were learnt again).
    writer.write_blocking(
        Batch(sessions=[_session(session, "safari")], events=[event_row(website, "/b")])
    )
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


def test_every_value_type_is_stored_exactly(writer, services):
    """What the writer stores is what it was given: text with quotes, backslashes, newlines and
    characters outside the BMP, decimals to four places, times with an offset, floats, NULLs
    (DuckDB receives the rows as one JSON document: store/engines/duckdb.py)."""
    from datetime import timedelta, timezone
    from decimal import Decimal

    from katsuo.collect.rows import EventDataRow

    website = str(uuid.uuid4())
    path = '/a "quoted" \\ path\nnext 😀 é'
    # A performance beacon: lcp arrives as a float from the JSON body, cls as a Decimal.
    event = event_row(website, path)._replace(lcp=1234.5, cls=Decimal("0.1234"), event_type=5)
    noon_in_kolkata = datetime(
        2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    data = [
        EventDataRow(
            str(uuid.uuid4()),
            website,
            event.event_id,
            "price",
            None,
            Decimal("-12345678.0001"),
            None,
            2,
            event.created_at,
        ),
        EventDataRow(
            str(uuid.uuid4()),
            website,
            event.event_id,
            "when",
            None,
            None,
            noon_in_kolkata,
            4,
            event.created_at,
        ),
        EventDataRow(
            str(uuid.uuid4()),
            website,
            event.event_id,
            "note",
            "tab\there 'single' {\"json\": 1}",
            None,
            None,
            1,
            event.created_at,
        ),
    ]
    writer.write_blocking(Batch(events=[event], event_data=data), timeout=30)
    writer.sync()
    with services.db.connect() as conn:
        [stored] = (
            conn.execute(
                sa.select(schema.website_event).where(schema.website_event.c.website_id == website)
            )
            .mappings()
            .all()
        )
        values = {
            row.data_key: row
            for row in conn.execute(
                sa.select(schema.event_data).where(schema.event_data.c.website_id == website)
            )
        }
    assert stored["url_path"] == path
    assert (stored["lcp"], stored["cls"], stored["page_title"], stored["event_type"]) == (
        Decimal("1234.5"),
        Decimal("0.1234"),
        None,
        5,
    )
    assert stored["created_at"] == event.created_at
    assert values["price"].number_value == Decimal("-12345678.0001")
    assert values["when"].date_value == noon_in_kolkata  # the same instant: 06:30:00.123456 UTC
    assert values["note"].string_value == "tab\there 'single' {\"json\": 1}"
    assert values["note"].number_value is None and values["note"].date_value is None
