"""The collect journal of embedded DuckDB: a record cut short is never replayed, hits left in the
journal by a crash are applied at the next start exactly once, and a read right after a hit sees
it without waiting for the applier's timer."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from katsuo.collect import journal as journal_module
from katsuo.collect import writer as writer_module
from katsuo.collect.journal import HEADER, Journal
from katsuo.collect.rows import Batch
from katsuo.config import Settings
from katsuo.services import Services
from katsuo.store import schema
from tests.collect.conftest import event_row, send
from tests.conftest import make_env


def _paths(record: list[Batch]) -> list[str]:
    return [event.url_path for batch in record for event in batch.events]


def test_a_record_cut_short_is_not_replayed(tmp_path):
    website = str(uuid.uuid4())
    journal = Journal(tmp_path)
    journal.open(None)
    first = journal.append(
        [Batch(events=[event_row(website, "/a")]), Batch(events=[event_row(website, "/b")])]
    )
    second = journal.append([Batch(events=[event_row(website, "/c")])])
    journal.close()
    segment = tmp_path / f"{first.segment:08d}.journal"
    with open(segment, "ab") as file:  # a crash in the middle of the third record
        file.write(HEADER.pack(4096, 0) + b"only the start")

    replayed = list(Journal(tmp_path).replay(None))
    assert [(_paths(record), position) for record, position in replayed] == [
        (["/a", "/b"], first),
        (["/c"], second),
    ]
    assert [_paths(record) for record, _ in Journal(tmp_path).replay(first)] == [["/c"]]

    # A flipped byte inside a record fails its checksum: reading stops before it.
    data = bytearray(segment.read_bytes())
    data[first.offset + HEADER.size + 5] ^= 0xFF
    segment.write_bytes(bytes(data))
    assert [_paths(record) for record, _ in Journal(tmp_path).replay(None)] == [["/a", "/b"]]

    # Appending goes on in a new segment, after the torn one.
    journal = Journal(tmp_path)
    journal.open(None)
    assert journal.append([Batch(events=[event_row(website, "/d")])]).segment == first.segment + 1
    journal.close()


def test_full_segments_are_followed_by_new_ones_and_replayed_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_module, "SEGMENT_BYTES", 1)  # every record fills its segment
    website = str(uuid.uuid4())
    journal = Journal(tmp_path)
    journal.open(None)
    positions = [journal.append([Batch(events=[event_row(website, f"/{n}")])]) for n in range(3)]
    journal.close()
    assert [position.segment for position in positions] == [1, 2, 3]
    assert [
        (_paths(record), position) for record, position in Journal(tmp_path).replay(positions[0])
    ] == [(["/1"], positions[1]), (["/2"], positions[2])]
    journal.discard_before(3)
    assert journal.segments() == [3]


def _stored_paths(settings: Settings, website: str) -> list[str]:
    services = Services.start(settings)
    try:
        t = schema.website_event
        with services.db.connect() as conn:
            return sorted(
                conn.execute(
                    sa.select(t.c.url_path).where(t.c.website_id == uuid.UUID(website))
                ).scalars()
            )
    finally:
        services.close()


def test_hits_left_in_the_journal_are_applied_once_at_the_next_start(request, tmp_path_factory):
    settings = Settings.from_env(make_env("duckdb", request, tmp_path_factory), load_dotenv=False)
    website = str(uuid.uuid4())
    assert _stored_paths(settings, website) == []  # creates the store, then stops cleanly

    # What a process killed after acknowledging these hits, before applying them, leaves behind.
    journal = Journal(settings.data_dir / "journal")
    journal.open(None)
    journal.append(
        [Batch(events=[event_row(website, "/1")]), Batch(events=[event_row(website, "/2")])]
    )
    journal.append([Batch(events=[event_row(website, "/3")])])
    journal.close()

    assert _stored_paths(settings, website) == ["/1", "/2", "/3"]
    # The applied position was stored with the rows: the next start does not apply them again.
    assert _stored_paths(settings, website) == ["/1", "/2", "/3"]
    # A clean stop applies everything and leaves no segment behind.
    assert Journal(settings.data_dir / "journal").segments() == []


def test_a_read_right_after_a_hit_sees_it(client, website, stored, monkeypatch):
    """The applier would wait an hour: the read itself must have the journal applied first."""
    monkeypatch.setattr(writer_module, "APPLY_SECONDS", 3600)
    for number in range(3):
        assert send(client, {"website": website, "url": f"/now/{number}"}).status_code == 200
        assert len(stored("website_event", website_id=uuid.UUID(website))) == number + 1


def _every_row_type(website: str) -> list[Batch]:
    """Two hits' rows covering every row type and every kind of value a row holds: text, None,
    integers, floats, decimals, and timestamps with microseconds."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from katsuo.collect.rows import EventDataRow, RevenueRow, SessionDataRow, SessionRow

    moment = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)
    session, event = str(uuid.uuid4()), event_row(website, "/pricing")
    performance = event._replace(
        event_id=str(uuid.uuid4()),
        event_type=5,
        lcp=1234.5,
        inp=56.0,
        fcp=0.1,
        ttfb=789.25,
        cls=0.0125,
    )
    return [
        Batch(
            sessions=[
                SessionRow(
                    session,
                    website,
                    "chrome",
                    "Mac OS",
                    "laptop",
                    "1920x1080",
                    "fr-FR",
                    "FR",
                    "FR-IDF",
                    "Paris",
                    None,
                    moment,
                )
            ],
            events=[event, performance],
            event_data=[
                EventDataRow(
                    str(uuid.uuid4()), website, event.event_id, "plan", "pro", None, None, 1, moment
                ),
                EventDataRow(
                    str(uuid.uuid4()),
                    website,
                    event.event_id,
                    "seats",
                    None,
                    Decimal("12.3456"),
                    None,
                    2,
                    moment,
                ),
                EventDataRow(
                    str(uuid.uuid4()),
                    website,
                    event.event_id,
                    "renews",
                    None,
                    None,
                    moment,
                    4,
                    moment,
                ),
            ],
            revenue=[
                RevenueRow(
                    str(uuid.uuid4()),
                    website,
                    session,
                    event.event_id,
                    "checkout",
                    "EUR",
                    Decimal("19.99"),
                    moment,
                )
            ],
        ),
        Batch(
            session_data=[
                SessionDataRow(
                    str(uuid.uuid4()),
                    website,
                    session,
                    "email",
                    "a@example.com",
                    None,
                    None,
                    1,
                    "user-7",
                    moment,
                )
            ]
        ),
    ]


def test_records_round_trip_every_row_type_and_value(tmp_path):
    website = str(uuid.uuid4())
    record = _every_row_type(website)
    journal = Journal(tmp_path)
    journal.open(None)
    position = journal.append(record)
    journal.close()
    assert (
        (tmp_path / f"{position.segment:08d}.journal")
        .read_bytes()
        .startswith(journal_module.FORMAT_HEADER)
    )
    [(replayed, replayed_at)] = list(Journal(tmp_path).replay(None))
    assert replayed == record and replayed_at == position
    types = [type(value) for value in replayed[0].event_data[1] + replayed[0].revenue[0]]
    assert types.count(Decimal) == 2 and types.count(datetime) == 2


def test_rows_are_rebuilt_by_column_name(tmp_path):
    """A record written by a version whose row type had another column and lacked one (`tag`)
    replays: the unknown column is dropped, the missing one is None."""
    import zlib

    import orjson

    from katsuo.collect.rows import EventRow

    event = event_row(str(uuid.uuid4()), "/old")._replace(tag="will-be-missing")
    fields = [name for name in EventRow._fields if name != "tag"] + ["added_later"]
    values = [getattr(event, name) for name in fields[:-1]] + ["x"]
    payload = orjson.dumps([{"events": {"fields": fields, "rows": [values]}}])
    segment = tmp_path / "00000001.journal"
    segment.write_bytes(
        journal_module.FORMAT_HEADER + HEADER.pack(len(payload), zlib.crc32(payload)) + payload
    )
    [([batch], _)] = list(Journal(tmp_path).replay(None))
    assert batch.events == [event._replace(tag=None)]


def test_a_journal_left_by_the_previous_version_is_applied_at_start(request, tmp_path_factory):
    """The version before the format header wrote each record as the pickled list of Batches
    behind the length and CRC header, from the segment's first byte. A crash left one: the
    upgraded server applies its hits at start, once."""
    import pickle
    import zlib

    settings = Settings.from_env(make_env("duckdb", request, tmp_path_factory), load_dotenv=False)
    website = str(uuid.uuid4())
    directory = settings.data_dir / "journal"
    directory.mkdir(parents=True)
    records = [
        [Batch(events=[event_row(website, "/1")]), Batch(events=[event_row(website, "/2")])],
        _every_row_type(website),
    ]
    with open(directory / "00000001.journal", "wb") as segment:
        for record in records:
            payload = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
            segment.write(HEADER.pack(len(payload), zlib.crc32(payload)) + payload)

    assert _stored_paths(settings, website) == ["/1", "/2", "/pricing", "/pricing"]
    assert _stored_paths(settings, website) == ["/1", "/2", "/pricing", "/pricing"]
    services = Services.start(settings)
    try:
        with services.db.connect() as conn:
            revenue = conn.execute(sa.select(schema.revenue.c.revenue)).scalars().all()
            data = conn.execute(sa.select(schema.event_data.c.data_key)).scalars().all()
    finally:
        services.close()
    assert [float(value) for value in revenue] == [19.99] and sorted(data) == [
        "plan",
        "renews",
        "seats",
    ]
    assert Journal(directory).segments() == []


def test_a_version_1_record_may_hold_only_rows(tmp_path):
    """Version 1 records are unpickled with only the row types, datetimes and decimals allowed:
    anything else in one is an unreadable record, skipped and logged."""
    import pickle
    import zlib

    good = pickle.dumps([Batch(events=[event_row(str(uuid.uuid4()), "/ok")])])
    bad = pickle.dumps([Batch(events=[]), print])
    with open(tmp_path / "00000001.journal", "wb") as segment:
        segment.writelines(
            HEADER.pack(len(payload), zlib.crc32(payload)) + payload for payload in (bad, good)
        )
    assert [_paths(record) for record, _ in Journal(tmp_path).replay(None)] == [["/ok"]]
