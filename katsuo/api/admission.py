"""How many analytics requests run at once: at most `KATSUO_QUERY_CONCURRENCY` per user and per
share (a share counts once however many tokens were resolved from its slug), and at most
`KATSUO_QUERY_CONCURRENCY_TOTAL` in the process, which stays below the database pools so that
the management plane and the write path always find a connection. Beyond a user's or share's
limit a request waits up to QUEUE_SECONDS for a slot (a client that sends a few more requests at
once than the limit is served, a little later), then answers 429, or 503 beyond the server's
limit, both with Retry-After.

The counts are per server process: several processes behind a load balancer each keep their own.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from katsuo.auth.permissions import Actor
from katsuo.config import ConfigError, Settings
from katsuo.errors import ApiError, TooManyRequests, Unavailable, retry_after

# Connections left to everything but analytics requests: the writer, the visit-slice upkeep, and
# logins, management requests and the collect path of other tenants.
RESERVED_CONNECTIONS = 4
# A slot frees when a running request ends: soon, usually.
RETRY_SECONDS = 1
QUEUE_SECONDS = 2.0
POLL_SECONDS = 0.02


def holders(actor: Actor) -> list[str]:
    """Who a request counts against: its user and its share."""
    found = []
    if actor.user is not None:
        found.append(f"user:{actor.user.id}")
    if actor.share_id is not None:
        found.append(f"share:{actor.share_id}")
    return found


class Admission:
    def __init__(self, per_holder: int, total: int):
        self.per_holder = per_holder
        self.total = total
        self._running: Counter[str] = Counter()
        self._all = 0
        self._lock = threading.Lock()

    @classmethod
    def for_pools(cls, settings: Settings, pool_sizes: list[int]) -> Admission:
        """Refuses a server ceiling that would leave the pools fewer than RESERVED_CONNECTIONS."""
        ceiling = min(pool_sizes) - RESERVED_CONNECTIONS
        if settings.query_concurrency_total > ceiling:
            raise ConfigError(
                f"KATSUO_QUERY_CONCURRENCY_TOTAL must be at most {ceiling} (the database pool "
                f"holds {min(pool_sizes)} connections, {RESERVED_CONNECTIONS} stay for the rest), "
                f"got {settings.query_concurrency_total}"
            )
        return cls(settings.query_concurrency, settings.query_concurrency_total)

    @asynccontextmanager
    async def admit(self, actor: Actor) -> AsyncIterator[None]:
        keys = holders(actor)
        deadline = time.monotonic() + QUEUE_SECONDS
        while (refusal := self._enter(keys)) is not None:
            if time.monotonic() >= deadline:
                raise refusal
            await asyncio.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            self._leave(keys)

    def _enter(self, keys: list[str]) -> ApiError | None:
        """Takes a slot for `keys`, or says why there is none."""
        with self._lock:
            if any(self._running[key] >= self.per_holder for key in keys):
                message = f"At most {self.per_holder} analytics requests at once"
                return retry_after(TooManyRequests(message, code="too-many-queries"), RETRY_SECONDS)
            if self._all >= self.total:
                return retry_after(
                    Unavailable("The server is busy, try again shortly", code="server-busy"),
                    RETRY_SECONDS,
                )
            self._all += 1
            self._running.update(keys)
            return None

    def _leave(self, keys: list[str]) -> None:
        with self._lock:
            self._all -= 1
            self._running.subtract(keys)
            for key in keys:
                if self._running[key] <= 0:
                    del self._running[key]
