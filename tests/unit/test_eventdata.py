"""Event data flattening and typing (docs/collection.md#event-data) and revenue
(docs/collection.md#revenue)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from katsuo.collect import eventdata as ed


def rows(data):
    return {
        v.key: (v.data_type, v.string_value, v.number_value, v.date_value) for v in ed.flatten(data)
    }


def test_types_and_dotted_keys():
    got = rows(
        {
            "plan": "pro",
            "n": 2.123456,
            "ok": True,
            "tags": [1, "a", 2.0],
            "none": None,
            "cart": {"items": 3, "meta": {"coupon": "X"}, "empty": {}},
            "when": "2024-05-01T10:00:00.000Z",
        }
    )
    assert got["plan"] == (1, "pro", None, None)
    assert got["n"] == (2, "2.1235", Decimal("2.1235"), None)
    assert got["ok"] == (3, "true", None, None)
    assert got["tags"] == (5, '[1,"a",2]', None, None)
    assert got["none"] == (5, "null", None, None)
    assert got["cart.items"][:2] == (2, "3.0000")
    assert got["cart.meta.coupon"] == (1, "X", None, None)
    assert got["when"] == (
        4,
        "2024-05-01T10:00:00.000Z",
        None,
        datetime(2024, 5, 1, 10, tzinfo=UTC),
    )
    assert list(got) == [
        "plan",
        "n",
        "ok",
        "tags",
        "none",
        "cart.items",
        "cart.meta.coupon",
        "when",
    ]


@pytest.mark.parametrize(
    ("text", "data_type"),
    [
        ("2024-05-01T10:00:00Z", 1),  # no milliseconds: a string
        ("2024-05-01T10:00:00.000-02:00", 1),  # negative offsets are strings
        ("2024-05-01T10:00:00.000+02:00", 4),
        ("2024-05-01T10:00:00", 4),
        ("2024-13-45T10:00:00", 1),  # matches the pattern, is no date
    ],
)
def test_date_detection(text, data_type):
    assert ed.flatten({"d": text})[0].data_type == data_type


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1, "1.0000"),
        (2.123456, "2.1235"),
        (0.03125, "0.0313"),
        (1e21, "1e+21"),
        (-0.00001, "-0.0000"),
    ],
)
def test_numbers_have_four_decimals_like_to_fixed(number, text):
    assert ed.flatten({"x": number})[0].string_value == text


def test_limits_from_the_docs():
    assert len(ed.flatten({f"k{i}": i for i in range(80)})) == 50
    assert len(ed.flatten({"s": "x" * 900})[0].string_value) == 500
    assert len(ed.flatten({"a": ["y" * 300, "z" * 300]})[0].string_value) == 500
    huge = ed.flatten({"big": 1e300})[0]
    assert huge.number_value is None and huge.data_type == 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"revenue": 19.99, "currency": "USD"}, (Decimal("19.99"), "USD")),
        ({"revenue": "12.50", "currency": "eur"}, (Decimal("12.5"), "eur")),
        ({"revenue": 5, "currency": "NOTACODE"}, (Decimal(5), "USD")),
        ({"revenue": 0, "currency": "USD"}, None),
        ({"revenue": -3, "currency": "USD"}, None),
        ({"revenue": "abc", "currency": "USD"}, None),
        ({"revenue": 5}, None),
        ({"Revenue": 5, "currency": "USD"}, None),
        ({"order": {"revenue": 5}, "currency": "USD"}, None),
    ],
)
def test_revenue(data, expected):
    assert ed.revenue(data) == expected
