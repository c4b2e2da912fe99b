"""Browser, OS, device type and bot verdict against tests/data/ua_conformance.json, whose expected
values were produced by running the npm packages Umami uses (scripts/gen_ua_conformance.mjs)."""

import json
from pathlib import Path

import pytest

from katsuo.collect import bots, useragent

TABLE = json.loads((Path(__file__).parent.parent / "data" / "ua_conformance.json").read_text())
CASES = TABLE["cases"]


def test_table_is_large_and_from_the_pinned_packages():
    assert len(CASES) >= 50
    assert TABLE["packages"]["detect-browser"] == "5.3.0"
    assert TABLE["packages"]["ua-parser-js"] == "2.0.10"


@pytest.mark.parametrize("case", CASES, ids=[c["ua"][:60] for c in CASES])
def test_matches_umami(case):
    got = {
        "browser": useragent.browser_name(case["ua"]),
        "os": useragent.os_name(case["ua"]),
        "device_type": useragent.device_type(case["ua"]),
        "bot": bots.is_bot(case["ua"]),
    }
    assert got == {key: case[key] for key in got}


@pytest.mark.parametrize(
    ("device_type", "screen", "stored"),
    [
        (None, "1920x1080", "laptop"),
        (None, "2560x1440", "desktop"),
        (None, None, "desktop"),
        (None, "wide", "desktop"),
        ("mobile", "390x844", "mobile"),
        ("tablet", "1024x768", "tablet"),
    ],
)
def test_device_from_type_and_screen(device_type, screen, stored):
    assert useragent.device(device_type, screen) == stored


def test_empty_agent_is_nothing_and_no_bot():
    assert useragent.describe("") == (None, None, None)
    assert bots.is_bot("") is False
