"""With the events in ClickHouse, hits are acknowledged once in the collect journal and inserted
behind it in large batches (collect/writer.py). ClickHouse has no transaction that could hold the
rows and the applied position together, so the position is a file beside the journal: a hit
acknowledged before an unclean stop is stored at the next start, and a hit whose rows were in
before the stop is not stored twice — in the events nor in the rollups that follow them.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from katsuo.collect.rows import Batch
from katsuo.collect.writer import Writer
from katsuo.store import schema
from tests.collect.conftest import event_row
from tests.engines.test_clickhouse_layout import _start


def _stored(services, website: str) -> tuple[int, int]:
    """(events stored, views the visit rollup counts) of the website."""
    with services.db.events.connect() as conn:
        events = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema.website_event)
            .where(schema.website_event.c.website_id == uuid.UUID(website))
        ).scalar()
        views = conn.exec_driver_sql(
            "SELECT sum(hits) FROM katsuo_visit_hourly WHERE website_id = %(w)s",
            {"w": uuid.UUID(website)},
        ).scalar()
    return events, int(views or 0)


def test_the_clickhouse_writer_acknowledges_from_its_journal(
    chdb_databases, request, tmp_path_factory, tmp_path
):
    services = _start(request, tmp_path_factory, chdb_databases.create())
    try:
        assert services.writer.journaled  # the server's own writer
        journal = tmp_path / "journal"
        website = str(uuid.uuid4())

        # Acknowledged, then the process stops before the applier's turn (it never comes).
        stalled = Writer(services.db, journal_dir=journal, apply_seconds=3600, apply_rows=10**9)
        for n in range(5):
            stalled.write_blocking(Batch(events=[event_row(website, f"/p{n}")]))
        assert _stored(services, website) == (0, 0)

        # The next start applies the acknowledged hits before taking new ones.
        restarted = Writer(services.db, journal_dir=journal)
        assert _stored(services, website) == (5, 5)
        restarted.write_blocking(Batch(events=[event_row(website, "/after")]))
        restarted.sync()
        assert _stored(services, website) == (6, 6)

        # Rows in, position not: as if the process died between the insert and the position
        # file (it is not closed, which would empty the journal). The replay reads the record of
        # the last hit again, finds its event stored and skips it.
        (journal / "applied").unlink()
        assert [p for p in journal.iterdir() if p.name != "applied"]  # records to replay
        again = Writer(services.db, journal_dir=journal)
        assert _stored(services, website) == (6, 6)
        again.write_blocking(Batch(events=[event_row(website, "/later")]))
        again.sync()
        assert _stored(services, website) == (7, 7)
        again.close()
    finally:
        services.close()
