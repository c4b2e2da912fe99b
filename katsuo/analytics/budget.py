"""The time budget of one analytics request: its statements stop when the budget runs out or
the client goes away, and the request answers 503 with Retry-After.

The engines enforce it as they can (store/engines: `budgeted`, `canceller`, `error_kind`):
PostgreSQL with statement_timeout and a cancel request, DuckDB with an interrupt, ClickHouse
with max_execution_time. A timer stops the running statement at the deadline whatever the
engine; once stopped, no further statement of the request starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from katsuo.errors import ApiError, Unavailable, retry_after

TIMEOUT, DISCONNECT = "timeout", "disconnect"


class Budget:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.stopped: str | None = None
        self._lock = threading.Lock()
        self._cancel: Callable[[], None] | None = None
        self._timer = threading.Timer(seconds, self.stop, args=(TIMEOUT,))
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def stop(self, reason: str) -> None:
        """Stop the request's queries (from any thread): the running one, and every later one."""
        with self._lock:
            if self.stopped is not None:
                return
            self.stopped = reason
            if self._cancel is not None:
                self._cancel()

    @contextmanager
    def running(self, cancel: Callable[[], None]) -> Iterator[None]:
        """Around one statement: `cancel` stops it if the budget runs out meanwhile."""
        with self._lock:
            if self.stopped is None and self.remaining() <= 0:
                self.stopped = TIMEOUT
            if self.stopped is not None:
                raise self.error()
            self._cancel = cancel
        try:
            yield
        finally:
            with self._lock:
                self._cancel = None

    def error(self) -> ApiError:
        """What the request answers once stopped (a client that went away reads nothing)."""
        if self.stopped == DISCONNECT:
            return Unavailable("The client went away; its query stopped", code="query-cancelled")
        return retry_after(
            Unavailable(
                f"The query took longer than its budget of {self.seconds:g} s", code="query-timeout"
            ),
            self.seconds,
        )

    def close(self) -> None:
        self._timer.cancel()
