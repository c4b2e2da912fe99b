"""API errors in Umami's shape: {"error": {"message", "code", "status", ...}} (access.md §8)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 500
    code = "server-error"
    default_message = "Server error"
    headers: dict[str, str] | None = None  # sent with the error response

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra: Any):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        if code:
            self.code = code
        self.extra = extra

    def body(self) -> dict:
        return {"error": {"message": self.message, "code": self.code, "status": self.status, **self.extra}}


class BadRequest(ApiError):
    status, code, default_message = 400, "bad-request", "Bad request"


class Unauthorized(ApiError):
    # Umami answers every permission denial with 401, not 403 (access.md §8).
    status, code, default_message = 401, "unauthorized", "Unauthorized"


class Forbidden(ApiError):
    status, code, default_message = 403, "forbidden", "Forbidden"


class NotFound(ApiError):
    status, code, default_message = 404, "not-found", "Not found"


class TooManyRequests(ApiError):
    status, code, default_message = 429, "too-many-requests", "Too many attempts, try again later"

    def __init__(self, retry_after: int):
        super().__init__()
        self.headers = {"Retry-After": str(retry_after)}
