"""Settings: defaults, Umami's variables, and start-up failures that name the variable."""

from __future__ import annotations

import ipaddress

import pytest

from katsuo.config import ConfigError, Settings


def test_defaults(tmp_path):
    settings = Settings.from_env({"KATSUO_DATA_DIR": str(tmp_path)})
    assert settings.engine == "duckdb" and settings.port == 3000 and settings.hostname == "0.0.0.0"
    assert settings.collect_api_endpoint == "/api/send" and settings.cors_max_age == 86400
    assert settings.duckdb_path == tmp_path / "katsuo.duckdb"
    # without APP_SECRET or DATABASE_URL a random secret is kept beside the database
    again = Settings.from_env({"KATSUO_DATA_DIR": str(tmp_path)})
    assert settings.app_secret == again.app_secret and len(settings.app_secret) == 64


def test_query_budget(tmp_path):
    """KATSUO_QUERY_TIMEOUT takes seconds with decimals; the concurrency limits default to 6 per
    user or share and 12 per server."""
    defaults = Settings.from_env({"KATSUO_DATA_DIR": str(tmp_path), "APP_SECRET": "x"})
    assert (
        defaults.query_timeout,
        defaults.query_concurrency,
        defaults.query_concurrency_total,
    ) == (30, 6, 12)
    chosen = Settings.from_env(
        {
            "KATSUO_DATA_DIR": str(tmp_path),
            "APP_SECRET": "x",
            "KATSUO_QUERY_TIMEOUT": " 2.5 ",
            "KATSUO_QUERY_CONCURRENCY": "2",
            "KATSUO_QUERY_CONCURRENCY_TOTAL": "3",
        }
    )
    assert (chosen.query_timeout, chosen.query_concurrency, chosen.query_concurrency_total) == (
        2.5,
        2,
        3,
    )


def test_umami_variables(tmp_path):
    settings = Settings.from_env(
        {
            "KATSUO_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://u:p@db:5432/umami",
            "PORT": "8080",
            "IGNORE_IP": "10.0.0.1, 192.168.0.0/16,2001:db8::/32",
            "TRACKER_SCRIPT_NAME": "stats.js, /path/to/tracker",
            "COLLECT_API_ENDPOINT": "/my-route/",
            "BASE_PATH": "/analytics",
            "DISABLE_BOT_CHECK": "1",
            "ALLOWED_FRAME_URLS": "https://a.example  https://b.example",
        }
    )
    assert settings.engine == "postgresql" and settings.port == 8080
    assert settings.app_secret == "postgresql://u:p@db:5432/umami"  # Umami's fallback
    assert (
        ipaddress.ip_network("192.168.0.0/16") in settings.ignore_ip
        and len(settings.ignore_ip) == 3
    )
    assert settings.tracker_script_names == ("/stats.js", "/path/to/tracker")
    assert settings.collect_api_endpoint == "/my-route" and settings.base_path == "/analytics"
    assert settings.disable_bot_check is True
    assert settings.allowed_frame_urls == "https://a.example https://b.example"


def test_clickhouse_url(tmp_path):
    for url in (
        "http://default:secret@clickhouse:8123/umami",
        "https://ch.example/umami",
        "chdb:///var/lib/katsuo/ch?database=umami",
    ):
        settings = Settings.from_env({"KATSUO_DATA_DIR": str(tmp_path), "CLICKHOUSE_URL": url})
        assert settings.clickhouse_url == url


def test_duckdb_memory_limit_reaches_the_database(tmp_path):
    """KATSUO_DUCKDB_MEMORY becomes the embedded database's memory_limit, which bounds its buffer
    pool and the rebuild's working memory alike (what does not fit spills to disk)."""
    from katsuo.store.database import Database

    settings = Settings.from_env(
        {"KATSUO_DATA_DIR": str(tmp_path), "APP_SECRET": "x", "KATSUO_DUCKDB_MEMORY": "300 MiB"}
    )
    db = Database(settings)
    try:
        with db.connect() as conn:
            limit = conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar_one()
    finally:
        db.close()
    assert limit == "300.0 MiB" and settings.duckdb_memory_bytes == 300 * 1024**2
    two = Settings.from_env({"KATSUO_DATA_DIR": str(tmp_path), "KATSUO_DUCKDB_MEMORY": "2gb"})
    assert two.duckdb_memory_bytes == 2 * 1000**3


def test_derived_secret_matches_spec_vector(tmp_path):
    settings = Settings.from_env({"KATSUO_DATA_DIR": str(tmp_path), "APP_SECRET": "test-secret"})
    assert settings.secret.startswith("a11241a654a67456")


@pytest.mark.parametrize(
    "name,value",
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("CORS_MAX_AGE", "-1"),
        ("IGNORE_IP", "10.0.0.1,not-an-ip"),
        ("DATABASE_URL", "mysql://localhost/umami"),
        ("REDIS_URL", "localhost:6379"),
        ("BASE_PATH", "custom"),
        ("COLLECT_API_ENDPOINT", "my-route"),
        ("DISABLE_BOT_CHECK", "maybe"),
        ("SALT_ROTATION", "hourly"),
        ("CLICKHOUSE_URL", "clickhouse://localhost:9000/umami"),
        ("CLICKHOUSE_URL", "http://"),
        ("CLICKHOUSE_URL", "http://localhost:port/umami"),
        ("CLICKHOUSE_URL", "chdb://relative/dir"),
        ("KATSUO_CLICKHOUSE_CLUSTER", "analytics"),  # without CLICKHOUSE_URL
        ("KATSUO_QUERY_TIMEOUT", "soon"),
        ("KATSUO_QUERY_TIMEOUT", "0"),
        ("KATSUO_QUERY_TIMEOUT", "-5"),
        ("KATSUO_QUERY_TIMEOUT", "nan"),
        ("KATSUO_QUERY_TIMEOUT", "inf"),
        ("KATSUO_QUERY_TIMEOUT", "7200"),
        ("KATSUO_QUERY_CONCURRENCY", "0"),
        ("KATSUO_QUERY_CONCURRENCY_TOTAL", "many"),
        ("KATSUO_DUCKDB_MEMORY", "lots"),
        ("KATSUO_DUCKDB_MEMORY", "4"),
        ("KATSUO_DUCKDB_MEMORY", "2GB; SET threads=1"),
    ],
)
def test_invalid_values_name_the_variable(tmp_path, name, value):
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"KATSUO_DATA_DIR": str(tmp_path), "APP_SECRET": "x", name: value})
    assert name in str(error.value)
