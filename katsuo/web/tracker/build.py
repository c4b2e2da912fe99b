"""Builds the tracker script as served: minified by terser, with the collect settings baked in.

The asset build (scripts/build-assets.sh, run by setup and by a wheel build) runs this file to
write script.min.js (git-ignored, shipped in the wheel): it imports only the standard library at
module level, since a wheel build has none of Katsuo's dependencies. When the server starts
without a current script.min.js it minifies in memory if terser is installed, and otherwise
serves the readable source: the same behaviour, about twice the bytes.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from katsuo.config import Settings

log = logging.getLogger("katsuo.tracker")

HERE = Path(__file__).parent
SOURCE = HERE / "script.js"
MINIFIED = HERE / "script.min.js"
TERSER = HERE.parents[2] / "node_modules" / ".bin" / "terser"
TERSER_OPTIONS = ["--compress", "--mangle"]

# Filled when serving (docs/collection.md#the-tracker-script): COLLECT_API_HOST,
# COLLECT_API_ENDPOINT, and the
# endpoint relative to the script's own URL for when no host is configured.
HOST, ENDPOINT, RELATIVE_ENDPOINT = (
    "__KATSUO_COLLECT_HOST__",
    "__KATSUO_COLLECT_PATH__",
    "__KATSUO_COLLECT_RELATIVE__",
)
PLACEHOLDERS = (HOST, ENDPOINT, RELATIVE_ENDPOINT)
QUOTED_PLACEHOLDER = re.compile(r"([\"'])(__KATSUO_COLLECT_[A-Z]+__)\1")


def minify() -> str:
    """Run terser over the source and return the minified text; raises when terser cannot."""
    result = subprocess.run(
        [str(TERSER), str(SOURCE), *TERSER_OPTIONS],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return _checked(result.stdout)


def _checked(text: str) -> str:
    # A minifier that folded a placeholder away would bake a wrong endpoint silently.
    found = [match[2] for match in QUOTED_PLACEHOLDER.finditer(text)]
    for placeholder in PLACEHOLDERS:
        if found.count(placeholder) != 1:
            raise ValueError(f"the minified tracker lost its {placeholder} placeholder")
    return text


def write_minified() -> str:
    text = minify()
    MINIFIED.write_text(text)
    return text


def template() -> str:
    """The script with its placeholders: the current minified build, else a fresh one, else the
    source. An installed wheel has no terser: its shipped build is current by construction."""
    if MINIFIED.exists() and (
        MINIFIED.stat().st_mtime >= SOURCE.stat().st_mtime or not TERSER.exists()
    ):
        try:
            return _checked(MINIFIED.read_text())
        except ValueError as error:
            log.warning("ignoring %s: %s", MINIFIED, error)
    try:
        text = minify()
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        log.warning(
            "tracker: serving the unminified source (%s); run scripts/setup.sh to install terser",
            getattr(error, "stderr", None) or error,
        )
        return SOURCE.read_text()
    try:
        MINIFIED.write_text(text)
    except OSError:
        pass  # a read-only install: minify again at the next start
    return text


def bake(text: str, settings: Settings, served_path: str) -> str:
    """The script for one serving path (relative to BASE_PATH, e.g. `/script.js`)."""
    # Umami resolves the endpoint against the script's directory, which breaks for a nested
    # TRACKER_SCRIPT_NAME such as /path/to/tracker; climbing back to the app root keeps it right.
    climb = "../" * (served_path.count("/") - 1) or "./"
    values = {
        HOST: settings.collect_api_host,
        ENDPOINT: settings.collect_api_endpoint,
        RELATIVE_ENDPOINT: climb + settings.collect_api_endpoint.lstrip("/"),
    }
    return QUOTED_PLACEHOLDER.sub(lambda match: json.dumps(values[match[2]]), text)


def main() -> None:
    text = write_minified().encode()
    print(f"tracker: wrote {MINIFIED}: {len(text)} bytes, {len(gzip.compress(text, 9))} gzipped")


if __name__ == "__main__":
    main()
