"""The write path: validate a hit, identify its session and visit, enrich it, and store it.

What other parts of Katsuo can rely on:

- `services.collector.send(body, headers)` (async): the whole of `POST /api/send` without HTTP,
  returning `(status, json_body)` once the hit is durable (committed, or in the collect journal
  of an embedded DuckDB); `send_many` is `/api/batch`.
  Tests can equally POST to `/api/send` (see tests/collect/conftest.py: `send()`, `stored()`).
- `services.writer` (collect/writer.py): the one writer (group commits, or the journal and its
  applier). A read through `Database.connect()`/`begin()` sees every acknowledged hit. Derived tables are kept
  at write time by `services.writer.hooks.append(fn)`, `fn(conn, batch)` running inside the
  writer's transaction after the batch's rows were inserted; `batch` is a `rows.Batch` of typed
  rows per table (collect/rows.py). `write_blocking(batch)` stores rows from non-async code.
- `services.collector.forget_websites(ids)`: after deleting or resetting websites' data (the
  removals in katsuo/removals.py call it); `forget_everything()` after emptying the database
  (tests/conftest.py's `empty_database` does).

One file per concern: payload (validation), ip, useragent, bots, geo, identity (session/visit
ids), cachetoken (`x-umami-cache`), urls, eventdata (flattening, revenue), websites (existence
cache), rows, journal, writer, collector (the pipeline).
"""
