"""A management write is committed before its 200 goes out: a client acting on the answer at once
(here: sending a hit for a website it just created) must find it."""

from tests.e2e.conftest import USER_AGENT


def test_a_created_website_collects_immediately(katsuo):
    for _ in range(20):
        website = katsuo.new_website()
        hit = {
            "type": "event",
            "payload": {"website": website, "url": "/", "hostname": "shop.test"},
        }
        response = katsuo.api.post("/api/send", json=hit, headers={"User-Agent": USER_AGENT})
        assert response.status_code == 200, response.text
