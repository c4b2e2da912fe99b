"""The front-end libraries the pages load, copied out of node_modules into static/vendor/ when
the assets are built (scripts/build-assets.sh). Standard library only: a wheel build runs this
file directly, before any of Katsuo's dependencies are installed."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

TARGET = Path(__file__).parent / "static" / "vendor"
# node_modules path -> file name under static/vendor/.
VENDOR_FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "alpinejs/dist/cdn.min.js": "alpine.min.js",
    "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
    "chartjs-chart-geo/build/index.umd.min.js": "chartjs-chart-geo.min.js",
    # The world map's shapes (numeric ISO 3166 ids) and the table from those ids to the
    # alpha-2 codes the API reports countries by.
    "world-atlas/countries-110m.json": "countries-110m.json",
    "i18n-iso-countries/codes.json": "country-codes.json",
    # English country names: what the pages show for a country code and what filters accept.
    "i18n-iso-countries/langs/en.json": "country-names.json",
    # The API's documentation page (/api/docs), served from here rather than a CDN.
    "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui.css": "swagger-ui.css",
}


def missing() -> list[str]:
    return [name for name in VENDOR_FILES.values() if not (TARGET / name).exists()]


def install_vendor(node_modules: Path) -> None:
    """Copy the pinned libraries out of node_modules (after `npm ci`)."""
    TARGET.mkdir(exist_ok=True)
    for source, name in VENDOR_FILES.items():
        shutil.copyfile(node_modules / source, TARGET / name)


if __name__ == "__main__":
    install_vendor(Path(sys.argv[1] if len(sys.argv) > 1 else "node_modules"))
    print(f"vendor: copied {len(VENDOR_FILES)} front-end files into {TARGET}")
