"""Shared fixtures: the storage engines (embedded DuckDB and a real PostgreSQL), real Redis, and
an API client bound to a freshly emptied database.

Services that are missing make their tests skip with a loud reason, unless
KATSUO_REQUIRE_SERVICES=1 (CI sets it), which turns every such skip into a failure.
"""

from __future__ import annotations

import os
import sys
import uuid

import pytest
import sqlalchemy as sa

from katsuo.config import Settings
from katsuo.services import Services
from katsuo.store import migrations, schema

REQUIRE_SERVICES = os.environ.get("KATSUO_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_URL = os.environ.get(
    "KATSUO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# pytest-xdist runs the suite in worker processes (gw0, gw1, ...): each flushes and uses a Redis
# database of its own, counting down from 15.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:])
REDIS_URL = os.environ.get("KATSUO_TEST_REDIS", f"redis://127.0.0.1:6379/{15 - _WORKER}")
APP_SECRET = "test-secret"
ENGINES = ["duckdb", "postgresql"]
# The analytics and reports suites also run with the events in ClickHouse (embedded chdb, with
# the management tables on DuckDB): `engine` may be "clickhouse" there.
WITH_CLICKHOUSE = [*ENGINES, "clickhouse"]


def unavailable(what: str, error: Exception) -> None:
    message = f"!!! {what} is not reachable ({error.__class__.__name__}: {error}); tests that need it cannot run"
    if REQUIRE_SERVICES:
        pytest.fail(message + " — KATSUO_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(message)


class PostgresDatabases:
    """Throw-away databases on the local PostgreSQL server."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
        self.created: list[str] = []

    def _admin(self) -> sa.Engine:
        return sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def create(self) -> str:
        name = f"katsuo_test_{uuid.uuid4().hex[:12]}"
        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return (
            self.admin_url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
            + f"/{name}"
        )

    def drop_all(self) -> None:
        engine = self._admin()
        with engine.connect() as conn:
            for name in self.created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_databases():
    databases = PostgresDatabases(POSTGRES_ADMIN_URL)
    try:
        engine = databases._admin()
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any connection failure means "not available"
        unavailable("PostgreSQL at " + POSTGRES_ADMIN_URL, error)
    yield databases
    databases.drop_all()


class ChdbDatabases:
    """Throw-away databases in one embedded ClickHouse (chdb opens one directory per process)."""

    def __init__(self, path):
        self.path = path

    def create(self) -> str:
        return f"chdb://{self.path}?database=katsuo_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def chdb_databases(tmp_path_factory):
    try:
        import chdb  # noqa: F401
    except ImportError as error:
        unavailable("chdb (embedded ClickHouse)", error)
    return ChdbDatabases(tmp_path_factory.mktemp("chdb"))


@pytest.fixture(scope="session")
def redis_url():
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL)
        client.ping()
        client.flushdb()
        client.close()
    except Exception as error:  # noqa: BLE001
        unavailable("Redis at " + REDIS_URL, error)
    return REDIS_URL


def make_env(engine: str, request, tmp_path_factory, **extra: str) -> dict[str, str]:
    # No background upkeep of the visit slices: tests settle or rebuild them explicitly, so what
    # a read sees does not depend on timing.
    env = {
        "APP_SECRET": APP_SECRET,
        "KATSUO_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "KATSUO_SLICE_SETTLE_SECONDS": "0",
    }
    if engine == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_databases").create()
    if engine == "clickhouse":
        env["CLICKHOUSE_URL"] = request.getfixturevalue("chdb_databases").create()
    env.update(extra)
    return env


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing():
    """bcrypt at cost 4 instead of 10 while testing: the same algorithm and hash format, about 60
    times cheaper, so suites that create many users stay fast. Verification reads the cost from
    each hash, so Umami's cost-10 hashes are still checked as they are."""
    from katsuo.auth import passwords

    production_cost, passwords.COST = passwords.COST, 4
    yield
    passwords.COST = production_cost


@pytest.fixture(scope="session", params=ENGINES)
def engine(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def started_services(request, tmp_path_factory):
    """started_services(engine) -> the session's running Services on that engine, started on
    first use and closed at the end of the session."""
    started: dict[str, Services] = {}

    def get(engine: str) -> Services:
        if engine not in started:
            started[engine] = Services.start(
                Settings.from_env(make_env(engine, request, tmp_path_factory))
            )
        return started[engine]

    yield get
    for svc in started.values():
        svc.close()


@pytest.fixture(scope="module")
def services(engine, started_services) -> Services:
    # Looked up per module: the analytics and reports packages override `engine` (adding
    # ClickHouse), and a session-scoped fixture cached under one package's `engine` would be
    # handed to another's tests whatever their engine, depending on the order the tests run in
    # (as under pytest-xdist).
    return started_services(engine)


def empty_database(svc: Services) -> None:
    """Delete every row, then seed the default account again, as on a first start."""
    with svc.db.begin() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            if table not in (schema.schema_version, schema.collect_journal):
                conn.execute(table.delete())
        migrations.seed_default_admin(conn)
    if svc.db.separate_events:
        with svc.db.events.connect() as conn:
            svc.db.events.engines.truncate_all(conn)
    if svc.collector is not None:  # cached website ids and committed session ids are gone too
        svc.collector.forget_everything()


@pytest.fixture
def app(services):
    from katsuo.app import create_app
    from katsuo.auth.ratelimit import LoginRateLimiter

    empty_database(services)
    services.login_limiter = (
        LoginRateLimiter()
    )  # failed logins of one test must not lock out the next
    return create_app(services.settings, services)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client):
    from tests.helpers import Api

    return Api(client)


@pytest.fixture(scope="module")
def module_client(engine, request, tmp_path_factory):
    """A client of an app on a database of its own, for suites that build their data once per
    engine and must not be emptied by the per-test `app` fixture of other modules."""
    from fastapi.testclient import TestClient

    from katsuo.app import create_app

    settings = Settings.from_env(make_env(engine, request, tmp_path_factory))
    svc = Services.start(settings)
    with TestClient(create_app(settings, svc)) as test_client:
        yield test_client
    svc.close()


def _not_on_clickhouse(item: pytest.Item) -> bool:
    """ClickHouse keeps no visit slices (its queries always read the events), so the tests of
    slices (the `slices` marker) and the analytics dataset's states built on them do not exist
    there: they are left out at collection rather than skipped."""
    params = item.callspec.params if hasattr(item, "callspec") else {}
    if params.get("engine") != "clickhouse":
        return False
    return params.get("dataset", "raw") != "raw" or item.get_closest_marker("slices") is not None


def _only_on_clickhouse(item: pytest.Item) -> bool:
    """Tests of a separate events store (the `events_store` marker) exist only with ClickHouse."""
    params = item.callspec.params if hasattr(item, "callspec") else {}
    return (
        item.get_closest_marker("events_store") is not None and params.get("engine") != "clickhouse"
    )


def pytest_collection_modifyitems(config, items):
    left_out = [item for item in items if _not_on_clickhouse(item) or _only_on_clickhouse(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


def pytest_sessionfinish(session, exitstatus):
    session.config.katsuo_exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Embedded ClickHouse (chdb) can crash with SIGSEGV while the interpreter tears down its
    static state, after every test has passed and the summary is printed (a known chdb-core
    problem with engine threads still alive at exit: chdb-io/chdb-core#177, #181). Once pytest
    is done, leave without that teardown and with pytest's own exit status."""
    if "chdb" in sys.modules and hasattr(config, "katsuo_exit_status"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(config.katsuo_exit_status)
