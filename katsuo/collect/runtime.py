"""Interpreter settings the write path needs under load, applied once at server start.

The writer thread releases the GIL inside every DuckDB/psycopg call and must get it back after
each one. While the event loop is busy with requests, getting it back waits for the loop to be
told to drop it, which CPython does only after the switch interval (5 ms by default): with a
dozen such hand-backs per batch the writer spent ~40 ms of wall time per batch for ~6 ms of CPU,
and requests waited on it. A short interval bounds each hand-back; it costs nothing when no
other thread is waiting for the GIL.

The cyclic garbage collector ran on ~15 % of the event loop's samples under load: every hit
allocates a few dozen container objects (rows, futures, dicts) that plain reference counting
frees, yet each allocation counts towards the next collection. Objects alive at start-up
(modules, settings, caches) are frozen out of collections, and the youngest generation is
collected less often.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL = 0.0005  # seconds (CPython's default: 0.005)
GC_THRESHOLDS = (50_000, 20, 20)  # CPython's default: (700, 10, 10)

_applied = False


def tune() -> None:
    """Apply the settings (once per process)."""
    global _applied
    if _applied:
        return
    _applied = True
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
