"""Bot check: the `is-bot` package's pattern list (the same list Umami's npm `isbot` is built
from), cached per User-Agent because real traffic repeats few strings and a miss costs ~0.3 ms."""

from __future__ import annotations

from functools import lru_cache

# is-bot's "manager" pattern also matches LG webOS TVs ("… WebAppManager"), which isbot 5.2
# counts as people; dropping it makes the two agree on tests/data/ua_conformance.json.
_EXCLUDED_PATTERNS = ["manager"]


@lru_cache(maxsize=1)
def _detector():
    import is_bot

    detector = is_bot.Bots()
    detector.exclude(_EXCLUDED_PATTERNS)
    return detector


def load() -> None:
    """Compile the patterns now (~30 ms) rather than while the first hit waits."""
    _detector()


@lru_cache(maxsize=8192)
def is_bot(user_agent: str) -> bool:
    """Whether the User-Agent is a crawler, tool or headless browser. An empty one is not."""
    return bool(user_agent) and _detector().is_bot(user_agent)
