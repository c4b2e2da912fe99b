"""The collect journal of embedded DuckDB: a record cut short is never replayed, hits left in the
journal by a crash are applied at the next start exactly once, and a read right after a hit sees
it without waiting for the applier's timer."""

from __future__ import annotations

import uuid

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
    first = journal.append([Batch(events=[event_row(website, "/a")]), Batch(events=[event_row(website, "/b")])])
    second = journal.append([Batch(events=[event_row(website, "/c")])])
    journal.close()
    segment = tmp_path / f"{first.segment:08d}.journal"
    with open(segment, "ab") as file:  # a crash in the middle of the third record
        file.write(HEADER.pack(4096, 0) + b"only the start")

    replayed = list(Journal(tmp_path).replay(None))
    assert [(_paths(record), position) for record, position in replayed] == [(["/a", "/b"], first), (["/c"], second)]
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
    assert [(_paths(record), position) for record, position in Journal(tmp_path).replay(positions[0])] == [
        (["/1"], positions[1]), (["/2"], positions[2])]
    journal.discard_before(3)
    assert journal.segments() == [3]


def _stored_paths(settings: Settings, website: str) -> list[str]:
    services = Services.start(settings)
    try:
        t = schema.website_event
        with services.db.connect() as conn:
            return sorted(conn.execute(sa.select(t.c.url_path).where(t.c.website_id == uuid.UUID(website))).scalars())
    finally:
        services.close()


def test_hits_left_in_the_journal_are_applied_once_at_the_next_start(request, tmp_path_factory):
    settings = Settings.from_env(make_env("duckdb", request, tmp_path_factory), load_dotenv=False)
    website = str(uuid.uuid4())
    assert _stored_paths(settings, website) == []  # creates the store, then stops cleanly

    # What a process killed after acknowledging these hits, before applying them, leaves behind.
    journal = Journal(settings.data_dir / "journal")
    journal.open(None)
    journal.append([Batch(events=[event_row(website, "/1")]), Batch(events=[event_row(website, "/2")])])
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
