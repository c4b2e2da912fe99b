"""`page` and `pageSize` of the analytics lists, validated with messages naming the parameter."""

from __future__ import annotations

from katsuo import checks

DEFAULT_PAGE_SIZE = 20
MAX_PAGE, MAX_PAGE_SIZE = 1_000_000, 10_000


def page_params(params: dict[str, str]) -> tuple[int, int]:
    return (
        checks.integer("page", params.get("page"), low=1, high=MAX_PAGE, default=1),
        checks.integer(
            "pageSize", params.get("pageSize"), low=1, high=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
        ),
    )
