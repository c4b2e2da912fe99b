"""How many analytics requests run at once: at most `KATSUO_QUERY_CONCURRENCY` per user and per
share (a share counts once however many tokens were resolved from its slug), and at most
`KATSUO_QUERY_CONCURRENCY_TOTAL` in the process, which stays below the database pools so that
the management plane and the write path always find a connection. Beyond a user's or share's
limit the request answers 429, beyond the server's 503, both with Retry-After.

The counts are per server process: several processes behind a load balancer each keep their own.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from katsuo.auth.permissions import Actor
from katsuo.config import ConfigError, Settings
from katsuo.errors import TooManyRequests, Unavailable, retry_after

# Connections left to everything but analytics requests: the writer, the visit-slice upkeep, and
# logins, management requests and the collect path of other tenants.
RESERVED_CONNECTIONS = 4
# A slot frees when a running request ends: soon, usually.
RETRY_SECONDS = 1


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

    @contextmanager
    def admit(self, actor: Actor) -> Iterator[None]:
        keys = holders(actor)
        with self._lock:
            if any(self._running[key] >= self.per_holder for key in keys):
                message = f"At most {self.per_holder} analytics requests at once"
                raise retry_after(TooManyRequests(message, code="too-many-queries"), RETRY_SECONDS)
            if self._all >= self.total:
                raise retry_after(
                    Unavailable("The server is busy, try again shortly", code="server-busy"),
                    RETRY_SECONDS,
                )
            self._all += 1
            self._running.update(keys)
        try:
            yield
        finally:
            with self._lock:
                self._all -= 1
                self._running.subtract(keys)
                for key in keys:
                    if self._running[key] <= 0:
                        del self._running[key]
