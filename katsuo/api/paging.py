"""`page` and `pageSize` of the analytics lists, validated with messages naming the parameter."""

from __future__ import annotations

from katsuo.errors import BadRequest

DEFAULT_PAGE_SIZE = 20


def _positive(name: str, raw: str | None, default: int, maximum: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}: must be a positive integer") from None
    if not 1 <= value <= maximum:
        raise BadRequest(f"{name}: must be between 1 and {maximum}")
    return value


def page_params(params: dict[str, str]) -> tuple[int, int]:
    return (
        _positive("page", params.get("page"), 1, 1_000_000),
        _positive("pageSize", params.get("pageSize"), DEFAULT_PAGE_SIZE, 10_000),
    )
