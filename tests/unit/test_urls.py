"""URL, referrer, campaign and title handling (docs/collection.md#page-url-referrer-and-title)."""

import pytest

from katsuo.collect import urls


def path(url, hostname=None, trailing=False):
    return urls.page_path(urls.resolve(url, hostname), remove_trailing_slash=trailing)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/", "/"),
        ("/docs#install", "/docs#install"),
        ("https://example.com/a/b?x=1#frag", "/a/b#frag"),
        (None, ""),
        ("/caf%C3%A9/%2F", "/café/%2F"),  # decodeURI keeps reserved escapes
        ("/100%", "/100%"),  # a broken escape keeps the raw value
        ("relative/page", "/relative/page"),
    ],
)
def test_url_path(url, expected):
    assert path(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"), [("/a/", "/a"), ("/a/#x", "/a#x"), ("/", ""), ("/a", "/a")]
)
def test_remove_trailing_slash(url, expected):
    assert path(url, trailing=True) == expected


def test_query_is_raw_and_campaign_is_decoded_first_occurrence():
    location = urls.resolve(
        "/p?utm_source=news+letter&utm_source=second&gclid=G1&dclid=D&q=%20x", None
    )
    assert location.query == "utm_source=news+letter&utm_source=second&gclid=G1&dclid=D&q=%20x"
    found = urls.campaign(location)
    assert found["utm_source"] == "news letter"
    assert found["gclid"] == "G1"
    assert found["utm_medium"] is None
    assert set(found) == {
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
        "gclid",
        "fbclid",
        "msclkid",
        "ttclid",
        "li_fat_id",
        "twclid",
    }


def test_hostname_from_url_drops_www_and_any_character():
    assert urls.site_hostname(urls.resolve("https://www.example.com/", None)) == "example.com"
    assert urls.site_hostname(urls.resolve("/x", "shop.example.com")) == "shop.example.com"


def test_referrer_parts():
    ref = urls.referrer("https://www.google.com/search?q=katsuo#top", "example.com")
    assert (ref.path, ref.query, ref.domain) == ("/search", "q=katsuo", "google.com")
    assert urls.referrer("", None) == urls.Referrer(None, None, None)
    assert urls.referrer(None, None) == urls.Referrer(None, None, None)


def test_title_decoded_and_truncated():
    assert urls.title("Hello%20World") == "Hello World"
    assert urls.title("50%") == "50%"
    assert len(urls.title("t" * 600)) == 500


def test_truncation_counts_utf16_units():
    assert urls.truncate("a" * 499 + "😀", 500) == "a" * 499  # the pair would need 501 units
    assert urls.truncate("x" * 501, 500) == "x" * 500
