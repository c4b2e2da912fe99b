"""API errors in Umami's shape: {"error": {"message", "code", "status", ...}}
(docs/permissions.md#error-bodies)."""

from __future__ import annotations

import math
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
        return {
            "error": {
                "message": self.message,
                "code": self.code,
                "status": self.status,
                **self.extra,
            }
        }


class BadRequest(ApiError):
    status, code, default_message = 400, "bad-request", "Bad request"


class Unauthorized(ApiError):
    # Umami answers every permission denial with 401, not 403 (docs/permissions.md).
    status, code, default_message = 401, "unauthorized", "Unauthorized"


class Forbidden(ApiError):
    status, code, default_message = 403, "forbidden", "Forbidden"


class NotFound(ApiError):
    status, code, default_message = 404, "not-found", "Not found"


class TooManyRequests(ApiError):
    status, code, default_message = 429, "too-many-requests", "Too many attempts, try again later"


class Unavailable(ApiError):
    """The server cannot answer now; `Retry-After` says when to try again."""

    status, code, default_message = 503, "unavailable", "Service unavailable, try again later"


def retry_after(error: ApiError, seconds: float) -> ApiError:
    """`error` with a Retry-After header of `seconds`, rounded up to whole seconds."""
    error.headers = {"Retry-After": str(max(1, math.ceil(seconds)))}
    return error
