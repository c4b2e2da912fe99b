"""Which website ids accept hits: cached in the process and, with REDIS_URL, in Redis."""

from __future__ import annotations

import uuid

import redis as redis_lib

from katsuo.collect.websites import WebsiteCache


def test_live_deleted_and_unknown_websites(api, services):
    admin = api.admin()
    live = admin.new_website()["id"]
    gone = admin.new_website()["id"]
    admin.delete(f"/api/websites/{gone}")
    cache = WebsiteCache(services.db)
    assert cache.cached(live) is None  # nothing known before the first lookup
    assert cache.lookup(live) is True and cache.cached(live) is True
    assert cache.lookup(gone) is False and cache.cached(gone) is False
    assert cache.lookup(str(uuid.uuid4())) is False
    cache.forget(live)
    assert cache.cached(live) is None


def test_redis_shares_known_websites_between_processes(api, services, redis_url):
    client = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    website = api.admin().new_website()["id"]
    first = WebsiteCache(services.db, client)
    assert first.lookup(website) is True
    assert client.get(f"katsuo:website:{website}") == "1"
    assert 0 < client.ttl(f"katsuo:website:{website}") <= 86400
    # Another process (a fresh cache) answers from Redis even once the row is gone.
    api.admin().delete(f"/api/websites/{website}")
    assert WebsiteCache(services.db, client).lookup(website) is True
    first.forget(website)
    assert client.get(f"katsuo:website:{website}") is None
    assert WebsiteCache(services.db, client).lookup(website) is False
    client.close()
