"""Failed-login throttling per client IP and per username (in Redis when configured)."""

from __future__ import annotations

from limits import RateLimitItemPerMinute, storage, strategies

from katsuo.errors import TooManyRequests

PER_USERNAME = RateLimitItemPerMinute(10, 15)  # 10 failures per 15 minutes for one account
PER_IP = RateLimitItemPerMinute(30, 15)  # 30 failures per 15 minutes from one address


class LoginRateLimiter:
    def __init__(self, redis_url: str = "", namespace: str = "katsuo"):
        uri = redis_url or "memory://"
        options = {"key_prefix": f"{namespace}-ratelimit"} if redis_url else {}
        self.limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(uri, **options))

    def check(self, ip: str, username: str) -> None:
        if not self.limiter.test(PER_IP, "login-ip", ip) or not self.limiter.test(
            PER_USERNAME, "login-user", username
        ):
            raise TooManyRequests()

    def failed(self, ip: str, username: str) -> None:
        self.limiter.hit(PER_IP, "login-ip", ip)
        self.limiter.hit(PER_USERNAME, "login-user", username)
