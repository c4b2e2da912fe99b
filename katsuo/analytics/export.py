"""`/export`: the main metrics lists as CSV files in a ZIP, safe to open in a spreadsheet."""

from __future__ import annotations

import base64
import csv
import io
import zipfile
from typing import Any

from katsuo.analytics.metrics import metrics
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader

# tab and CR, after trimming). Collected text is anyone's: /api/send takes event names, paths
# and referrers from the public.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value as a CSV cell no spreadsheet evaluates: text that could start a formula gets a
    leading apostrophe (the OWASP advice); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export(reader: Reader, query: Query) -> dict:
    """`/export`: a ZIP of CSV files of the main metrics lists, base64-encoded."""
    files = {
        "events.csv": metrics(reader, query, "event", 500, 0),
        "pages.csv": metrics(reader, query, "path", 500, 0),
        "referrers.csv": metrics(reader, query, "referrer", 500, 0),
        "browsers.csv": metrics(reader, query, "browser", 500, 0),
        "os.csv": metrics(reader, query, "os", 500, 0),
        "devices.csv": metrics(reader, query, "device", 500, 0),
        "countries.csv": metrics(reader, query, "country", 500, 0),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in files.items():
            text = io.StringIO()
            if rows:
                writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\r\n")
                writer.writeheader()
                writer.writerows(
                    {key: csv_cell(value) for key, value in row.items()} for row in rows
                )
            archive.writestr(name, text.getvalue())
    return {"zip": base64.b64encode(buffer.getvalue()).decode()}
