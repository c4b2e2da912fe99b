"""The currencies the revenue report's form offers: the ISO 4217 list the API checks the
`currency` parameter against (the same `iso4217` package), by code, with their English names."""

from __future__ import annotations

from functools import cache


@cache
def choices() -> list[tuple[str, str]]:
    from iso4217 import Currency

    return sorted({(currency.code, currency.currency_name) for currency in Currency})
