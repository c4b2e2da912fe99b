"""Settings read once from the environment (and an optional `.env`), with Umami's variable names."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

# The longest retention limit, in days (100 years), for KATSUO_RETENTION_DAYS and per website.
MAX_RETENTION_DAYS = 36500


class ConfigError(ValueError):
    """An environment variable has a value Katsuo cannot use; the message names it."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(env: Mapping[str, str], name: str) -> bool:
    # Umami treats any non-empty string as "on" (so FOO=false enables FOO). The docs only ever
    # show `1`; we accept the usual spellings both ways and reject anything else loudly.
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1/true/yes/on or 0/false/no/off, got {env[name]!r}")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not low <= value <= high:  # also refuses nan and inf
        raise ConfigError(f"{name} must be between {low:g} and {high:g} seconds, got {raw}")
    return value


def _path_prefix(env: Mapping[str, str], name: str, default: str = "") -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.startswith("/") or " " in raw:
        raise ConfigError(f"{name} must be a path starting with '/', got {raw!r}")
    return raw.rstrip("/") or default


def _ip_networks(env: Mapping[str, str], name: str) -> tuple[ipaddress._BaseNetwork, ...]:
    networks = []
    for item in env.get(name, "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name} has an entry that is not an IP address or CIDR range: {item!r}") from None
    return tuple(networks)


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip()
    if raw and urlparse(raw).scheme not in schemes:
        raise ConfigError(f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}, got {raw!r}")
    return raw


def _clickhouse_url(env: Mapping[str, str]) -> str:
    """Umami's `http(s)://user:password@host:port/database`, or Katsuo's `chdb:///directory`
    (embedded ClickHouse, `?database=NAME` optional)."""
    name = "CLICKHOUSE_URL"
    raw = _url(env, name, ("http", "https", "chdb"))
    if not raw:
        return raw
    parts = urlparse(raw)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if not port_ok:
        raise ConfigError(f"{name} has an invalid port: {raw!r}")
    if parts.scheme == "chdb":
        if parts.netloc or not parts.path.startswith("/"):
            raise ConfigError(
                f"{name} must be chdb:///absolute/directory for embedded ClickHouse, got {raw!r}"
            )
    elif not parts.hostname:
        raise ConfigError(f"{name} must name a host, got {raw!r}")
    return raw


def _clickhouse_cluster(env: Mapping[str, str]) -> str:
    name = "KATSUO_CLICKHOUSE_CLUSTER"
    raw = env.get(name, "").strip()
    if raw and not env.get("CLICKHOUSE_URL", "").strip():
        raise ConfigError(f"{name} needs CLICKHOUSE_URL")
    if raw and not all(c.isalnum() or c in "_-." for c in raw):
        raise ConfigError(
            f"{name} must be a cluster name from the server's remote_servers, got {raw!r}"
        )
    return raw


@dataclass(frozen=True)
class Settings:
    # Database and storage
    database_url: str = ""  # empty: embedded DuckDB under data_dir
    data_dir: Path = Path("data")
    redis_url: str = ""
    clickhouse_url: str = ""  # set: the collected data lives in ClickHouse (store/engines/)
    clickhouse_cluster: str = ""  # KATSUO_CLICKHOUSE_CLUSTER: replicated, sharded tables ON CLUSTER
    skip_db_check: bool = False
    skip_db_migration: bool = False
    log_query: bool = False
    debug: str = ""
    # Read path: how often pending events are folded into the visit slices (0: no background
    # upkeep; the slices are then only rebuilt by `katsuo slices rebuild`).
    slice_settle_seconds: int = 2
    # The budget of every analytics request: its queries stop after `query_timeout` seconds;
    # each user and each share runs at most `query_concurrency` requests at once, and the server
    # at most `query_concurrency_total` (kept below the database pools, see api/admission.py).
    query_timeout: float = 30.0
    query_concurrency: int = 6
    query_concurrency_total: int = 12
    # Collected data older than this many days is deleted daily (0: kept for ever); a website's
    # own setting overrides it (ops/retention.py).
    retention_days: int = 0
    # Security and identity
    app_secret: str = ""
    salt_rotation: str = "month"
    use_uuidv7: bool = False
    disable_login: bool = False
    force_ssl: bool = False
    allowed_frame_urls: str = ""
    cors_max_age: int = 86400
    # Collection
    disable_bot_check: bool = False
    ignore_ip: tuple = ()
    client_ip_header: str = ""
    # KATSUO_TRUSTED_PROXIES: reverse proxies whose forwarding headers give the client IP for
    # security decisions (login throttling); empty: the socket peer is the client.
    trusted_proxies: tuple = ()
    skip_location_headers: bool = False
    geo_database_url: str = ""
    geolite_db_path: str = ""
    remove_trailing_slash: bool = False
    collect_api_endpoint: str = "/api/send"
    collect_api_host: str = ""
    tracker_script_names: tuple[str, ...] = ()
    tracker_script_url: str = ""
    bench_noop: bool = False  # KATSUO_BENCH_NOOP: a no-op collect route, the benchmark's baseline
    # Modes and UI
    base_path: str = ""
    private_mode: bool = False
    disable_telemetry: bool = False
    disable_updates: bool = False
    disable_ui: bool = False
    enable_test_console: bool = False
    favicon_url: str = "https://icons.duckduckgo.com/ip3/{{domain}}.ico"
    links_url: str = ""
    pixels_url: str = ""
    default_locale: str = "en-US"
    default_currency: str = "USD"
    # Process
    hostname: str = "0.0.0.0"
    port: int = 3000

    @property
    def engine(self) -> str:
        return "postgresql" if self.database_url else "duckdb"

    @property
    def secret(self) -> str:
        """The derived secret S: hex SHA-512 of APP_SECRET, as Umami computes it (access.md §1)."""
        return hashlib.sha512(self.app_secret.encode()).hexdigest()

    @property
    def duckdb_path(self) -> Path:
        return self.data_dir / "katsuo.duckdb"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, load_dotenv: bool = True) -> Settings:
        if env is None:
            if load_dotenv:
                from dotenv import load_dotenv as _load

                _load(Path.cwd() / ".env", override=False)
            env = os.environ
        database_url = _url(env, "DATABASE_URL", ("postgresql", "postgres", "postgresql+psycopg"))
        data_dir = Path(env.get("KATSUO_DATA_DIR", "").strip() or "data")
        app_secret = env.get("APP_SECRET", "").strip() or database_url
        if not app_secret:
            app_secret = _persistent_secret(data_dir)
        salt_rotation = env.get("SALT_ROTATION", "").strip().lower() or "month"
        if salt_rotation not in ("day", "week", "month"):
            raise ConfigError(f"SALT_ROTATION must be day, week or month, got {salt_rotation!r}")
        collect = _path_prefix(env, "COLLECT_API_ENDPOINT", "/api/send")
        script_names = tuple(
            "/" + name.strip().lstrip("/")
            for name in env.get("TRACKER_SCRIPT_NAME", "").split(",")
            if name.strip().lstrip("/")
        )
        client_ip_header = env.get("CLIENT_IP_HEADER", "").strip().lower()
        if client_ip_header and not all(c.isalnum() or c in "-_" for c in client_ip_header):
            raise ConfigError(f"CLIENT_IP_HEADER must be an HTTP header name, got {client_ip_header!r}")
        return cls(
            database_url=database_url,
            data_dir=data_dir,
            redis_url=_url(env, "REDIS_URL", ("redis", "rediss", "unix")),
            clickhouse_url=_clickhouse_url(env),
            clickhouse_cluster=_clickhouse_cluster(env),
            skip_db_check=_flag(env, "SKIP_DB_CHECK"),
            skip_db_migration=_flag(env, "SKIP_DB_MIGRATION") or _flag(env, "SKIP_DB_CHECK"),
            log_query=_flag(env, "LOG_QUERY"),
            debug=env.get("DEBUG", "").strip(),
            slice_settle_seconds=_int(env, "KATSUO_SLICE_SETTLE_SECONDS", 2, 0, 3600),
            retention_days=_int(env, "KATSUO_RETENTION_DAYS", 0, 0, MAX_RETENTION_DAYS),
            query_timeout=_seconds(env, "KATSUO_QUERY_TIMEOUT", 30.0, 0.01, 3600),
            query_concurrency=_int(env, "KATSUO_QUERY_CONCURRENCY", 6, 1, 1000),
            query_concurrency_total=_int(env, "KATSUO_QUERY_CONCURRENCY_TOTAL", 12, 1, 1000),
            app_secret=app_secret,
            salt_rotation=salt_rotation,
            use_uuidv7=_flag(env, "USE_UUIDV7"),
            disable_login=_flag(env, "DISABLE_LOGIN"),
            force_ssl=_flag(env, "FORCE_SSL"),
            allowed_frame_urls=" ".join(env.get("ALLOWED_FRAME_URLS", "").split()),
            cors_max_age=_int(env, "CORS_MAX_AGE", 86400, 0, 10**9),
            disable_bot_check=_flag(env, "DISABLE_BOT_CHECK"),
            ignore_ip=_ip_networks(env, "IGNORE_IP"),
            client_ip_header=client_ip_header,
            trusted_proxies=_ip_networks(env, "KATSUO_TRUSTED_PROXIES"),
            skip_location_headers=_flag(env, "SKIP_LOCATION_HEADERS"),
            geo_database_url=env.get("GEO_DATABASE_URL", "").strip(),
            geolite_db_path=env.get("GEOLITE_DB_PATH", "").strip(),
            remove_trailing_slash=_flag(env, "REMOVE_TRAILING_SLASH"),
            collect_api_endpoint=collect,
            collect_api_host=env.get("COLLECT_API_HOST", "").strip().rstrip("/"),
            tracker_script_names=script_names,
            tracker_script_url=_url(env, "TRACKER_SCRIPT_URL", ("http", "https")),
            bench_noop=_flag(env, "KATSUO_BENCH_NOOP"),
            base_path=_path_prefix(env, "BASE_PATH"),
            private_mode=_flag(env, "PRIVATE_MODE"),
            disable_telemetry=_flag(env, "DISABLE_TELEMETRY"),
            disable_updates=_flag(env, "DISABLE_UPDATES"),
            disable_ui=_flag(env, "DISABLE_UI"),
            enable_test_console=_flag(env, "ENABLE_TEST_CONSOLE"),
            favicon_url=env.get("FAVICON_URL", "").strip()
            or "https://icons.duckduckgo.com/ip3/{{domain}}.ico",
            links_url=env.get("LINKS_URL", "").strip(),
            pixels_url=env.get("PIXELS_URL", "").strip(),
            default_locale=env.get("DEFAULT_LOCALE", "").strip() or "en-US",
            default_currency=(env.get("DEFAULT_CURRENCY", "").strip() or "USD").upper(),
            hostname=env.get("HOSTNAME", "").strip() or "0.0.0.0",
            port=_int(env, "PORT", 3000, 1, 65535),
        )


def _persistent_secret(data_dir: Path) -> str:
    """With neither APP_SECRET nor DATABASE_URL, keep a random secret beside the embedded database,
    so session ids and login tokens survive restarts."""
    path = data_dir / "app_secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    path.write_text(value)
    path.chmod(0o600)
    return value
