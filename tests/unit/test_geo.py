"""Geo location from CDN headers and from a MaxMind-format database that the test builds itself."""

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from katsuo.collect.geo import GeoLocator, Place


@pytest.fixture(scope="module")
def city_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("geo") / "City.mmdb"
    writer = MMDBWriter(
        ip_version=6, database_type="GeoLite2-City", languages=["en"], ipv4_compatible=True
    )
    writer.insert_network(
        IPSet(["203.0.113.0/24"]),
        {
            "country": {"iso_code": "US"},
            "subdivisions": [{"iso_code": "CA"}],
            "city": {"names": {"en": "Mountain View", "de": "Mountain View"}},
        },
    )
    writer.insert_network(IPSet(["198.51.100.0/24"]), {"registered_country": {"iso_code": "SE"}})
    writer.insert_network(
        IPSet(["2001:db8:1::/48"]),
        {
            "country": {"iso_code": "DE"},
            "subdivisions": [{"iso_code": "BE"}],
            "city": {"names": {"en": "Berlin"}},
        },
    )
    writer.to_db_file(str(path))
    return path


def test_database_lookup(city_db):
    geo = GeoLocator(city_db)
    assert geo.locate("203.0.113.50", {}, ip_from_payload=False) == Place(
        "US", "US-CA", "Mountain View"
    )
    assert geo.locate("2001:db8:1::5", {}, ip_from_payload=False) == Place("DE", "DE-BE", "Berlin")
    # registered country as the fallback; no subdivision means no region
    assert geo.locate("198.51.100.1", {}, ip_from_payload=False) == Place("SE", None, None)
    assert geo.locate("192.0.2.1", {}, ip_from_payload=False) == Place()
    geo.close()


def test_private_and_loopback_addresses_get_nothing_even_with_headers(city_db):
    geo = GeoLocator(city_db)
    for ip in ("", "127.0.0.1", "10.0.0.8", "::1", "192.168.0.3"):
        assert geo.locate(ip, {"cf-ipcountry": "US"}, ip_from_payload=False) == Place()


def test_provider_headers_win_over_the_database(city_db):
    geo = GeoLocator(city_db)
    cloudflare = {"cf-ipcountry": "FR", "cf-region-code": "IDF", "cf-ipcity": "Paris"}
    assert geo.locate("203.0.113.50", cloudflare, ip_from_payload=False) == Place(
        "FR", "FR-IDF", "Paris"
    )
    vercel = {
        "x-vercel-ip-country": "US",
        "x-vercel-ip-country-region": "CA",
        "x-vercel-ip-city": "San%20Francisco",
    }
    assert geo.locate("203.0.113.50", vercel, ip_from_payload=False) == Place(
        "US", "US-CA", "San Francisco"
    )
    # UTF-8 city names arrive as Latin-1-decoded header text
    zurich = {"cf-ipcountry": "CH", "cf-ipcity": "Zürich".encode().decode("latin-1")}
    assert geo.locate("203.0.113.50", zurich, ip_from_payload=False) == Place("CH", None, "Zürich")
    # an IP sent in the payload, or SKIP_LOCATION_HEADERS, means the database decides
    assert geo.locate("203.0.113.50", cloudflare, ip_from_payload=True).country == "US"
    assert (
        GeoLocator(city_db, use_headers=False)
        .locate("203.0.113.50", cloudflare, ip_from_payload=False)
        .country
        == "US"
    )


def test_missing_database_means_headers_only(tmp_path):
    geo = GeoLocator(tmp_path / "absent.mmdb")
    assert geo.locate("203.0.113.50", {}, ip_from_payload=False) == Place()
    assert geo.locate("203.0.113.50", {"cf-ipcountry": "JP"}, ip_from_payload=False).country == "JP"
