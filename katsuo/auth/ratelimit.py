"""Failed-login throttling (in Redis when configured, so every process counts the same).

Failures are counted per (username, client address) and per client address. A wrong password
typed from elsewhere therefore never locks the real user out of their own address, while one
address cannot try more than a few dozen passwords, whichever usernames it picks. The address is
the one `auth.client` trusts, never a forwarding header any caller could change.
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute, storage, strategies

from katsuo.errors import TooManyRequests, retry_after

# 10 failures per 15 minutes for one account from one address
PER_USERNAME_AND_IP = RateLimitItemPerMinute(10, 15)
PER_IP = RateLimitItemPerMinute(30, 15)  # 30 failures per 15 minutes from one address, any accounts


class LoginRateLimiter:
    def __init__(self, redis_url: str = "", namespace: str = "katsuo"):
        uri = redis_url or "memory://"
        options = {"key_prefix": f"{namespace}-ratelimit"} if redis_url else {}
        self.limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(uri, **options)
        )

    def _limits(self, ip: str, username: str) -> list[tuple]:
        return [(PER_IP, "login-ip", ip), (PER_USERNAME_AND_IP, "login-ip-user", ip, username)]

    def check(self, ip: str, username: str) -> None:
        """Refuses (429, with Retry-After in seconds) once a limit is used up."""
        for item, *keys in self._limits(ip, username):
            if not self.limiter.test(item, *keys):
                reset = self.limiter.get_window_stats(item, *keys).reset_time
                raise retry_after(TooManyRequests(), reset - time.time())

    def failed(self, ip: str, username: str) -> None:
        for item, *keys in self._limits(ip, username):
            self.limiter.hit(item, *keys)
