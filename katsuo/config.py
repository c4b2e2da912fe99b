"""Settings read once from the environment (and an optional `.env`), with Umami's variable names.

Each setting is one field below: its type, its default, its bounds and the variable it is read
from (the field's alias; Katsuo's own variables start with `KATSUO_`). `Settings.from_env` is the
only place that reads the environment; `Settings(...)` takes just what it is given (tests, tools).
A value Katsuo cannot use stops the start with a `ConfigError` that names the variable.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from dotenv import dotenv_values
from pydantic import BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# The longest retention limit, in days (100 years), for KATSUO_RETENTION_DAYS and per website.
MAX_RETENTION_DAYS = 36500


class ConfigError(ValueError):
    """An environment variable has a value Katsuo cannot use; the message names it."""


# --- how the text of a variable becomes a value ------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _switch(raw: Any) -> bool:
    # Umami treats any non-empty string as "on" (so FOO=false enables FOO). The docs only ever
    # show `1`; we accept the usual spellings both ways and reject anything else loudly.
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"must be 1/true/yes/on or 0/false/no/off, got {raw!r}")


def _stripped(raw: Any) -> Any:
    return raw.strip() if isinstance(raw, str) else raw


def _url_of(*schemes: str):
    def check(raw: Any) -> str:
        text = str(raw).strip()
        if text and urlparse(text).scheme not in schemes:
            starts = " or ".join(scheme + "://" for scheme in schemes)
            raise ValueError(f"must be a URL starting with {starts}, got {text!r}")
        return text

    return check


def _path_prefix(raw: Any) -> str:
    text = str(raw).strip()
    if not text.startswith("/") or " " in text:
        raise ValueError(f"must be a path starting with '/', got {text!r}")
    return text.rstrip("/")


def _networks(raw: Any) -> tuple[IpNetwork, ...]:
    if isinstance(raw, tuple):
        return raw
    networks = []
    for item in str(raw).split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"has an entry that is not an IP address or CIDR range: {item!r}"
            ) from None
    return tuple(networks)


def _script_names(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, tuple):
        return raw
    names = (name.strip().lstrip("/") for name in str(raw).split(","))
    return tuple("/" + name for name in names if name)


def _header_name(raw: Any) -> str:
    text = str(raw).strip().lower()
    if not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError(f"must be an HTTP header name, got {text!r}")
    return text


def _clickhouse_url(raw: Any) -> str:
    """Umami's `http(s)://user:password@host:port/database`, or Katsuo's `chdb:///directory`
    (embedded ClickHouse, `?database=NAME` optional)."""
    text = _url_of("http", "https", "chdb")(raw)
    if not text:
        return text
    parts = urlparse(text)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if not port_ok:
        raise ValueError(f"has an invalid port: {text!r}")
    if parts.scheme == "chdb":
        if parts.netloc or not parts.path.startswith("/"):
            raise ValueError(
                f"must be chdb:///absolute/directory for embedded ClickHouse, got {text!r}"
            )
    elif not parts.hostname:
        raise ValueError(f"must name a host, got {text!r}")
    return text


_MEMORY_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def _memory_size(raw: Any) -> str:
    text = str(raw).strip()
    if text and not _MEMORY_SIZE.fullmatch(text):
        raise ValueError(f"must be a size such as 512MB or 4GB, got {text!r}")
    return text


def _cluster_name(raw: Any) -> str:
    text = str(raw).strip()
    if not all(c.isalnum() or c in "_-." for c in text):
        raise ValueError(f"must be a cluster name from the server's remote_servers, got {text!r}")
    return text


Switch = Annotated[bool, BeforeValidator(_switch)]
Text = Annotated[str, BeforeValidator(_stripped)]
Networks = Annotated[tuple[IpNetwork, ...], NoDecode, BeforeValidator(_networks)]


def _seconds(default: float, low: float, high: float, alias: str) -> Any:
    return Field(default, gt=low, le=high, allow_inf_nan=False, alias=alias)


# --- the settings ------------------------------------------------------------------------------


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        case_sensitive=True,
        env_ignore_empty=True,
        validate_default=False,
        validate_by_name=True,
        validate_by_alias=True,
    )

    # Database and storage
    database_url: Annotated[
        str, BeforeValidator(_url_of("postgresql", "postgres", "postgresql+psycopg"))
    ] = Field("", alias="DATABASE_URL")  # empty: embedded DuckDB under data_dir
    data_dir: Path = Field(Path("data"), alias="KATSUO_DATA_DIR")
    # DuckDB's memory_limit: its buffer pool and every operator's working memory; what does not
    # fit spills to the temporary folder beside the database. Empty: DuckDB's default (80 % RAM).
    duckdb_memory: Annotated[str, BeforeValidator(_memory_size)] = Field(
        "", alias="KATSUO_DUCKDB_MEMORY"
    )
    redis_url: Annotated[str, BeforeValidator(_url_of("redis", "rediss", "unix"))] = Field(
        "", alias="REDIS_URL"
    )
    # set: the collected data lives in ClickHouse (store/engines/)
    clickhouse_url: Annotated[str, BeforeValidator(_clickhouse_url)] = Field(
        "", alias="CLICKHOUSE_URL"
    )
    # replicated, sharded tables ON CLUSTER
    clickhouse_cluster: Annotated[str, BeforeValidator(_cluster_name)] = Field(
        "", alias="KATSUO_CLICKHOUSE_CLUSTER"
    )
    skip_db_check: Switch = Field(False, alias="SKIP_DB_CHECK")
    skip_db_migration: Switch = Field(False, alias="SKIP_DB_MIGRATION")  # also on with the check
    log_query: Switch = Field(False, alias="LOG_QUERY")
    debug: Text = Field("", alias="DEBUG")
    # Read path: how often pending events are folded into the visit slices (0: no background
    # upkeep; the slices are then only rebuilt by `katsuo slices rebuild`).
    slice_settle_seconds: int = Field(2, ge=0, le=3600, alias="KATSUO_SLICE_SETTLE_SECONDS")
    # How often the whole history of website_event is compared with the visit slices (rows with
    # old timestamps or deleted by another writer); the recent hours are compared every round.
    slice_audit_seconds: int = Field(600, ge=1, le=86400, alias="KATSUO_SLICE_AUDIT_SECONDS")
    # The budget of every analytics request: its queries stop after `query_timeout` seconds;
    # each user and each share runs at most `query_concurrency` requests at once, and the server
    # at most `query_concurrency_total` (kept below the database pools, see api/admission.py).
    query_timeout: float = _seconds(30.0, 0, 3600, alias="KATSUO_QUERY_TIMEOUT")
    query_concurrency: int = Field(6, ge=1, le=1000, alias="KATSUO_QUERY_CONCURRENCY")
    query_concurrency_total: int = Field(12, ge=1, le=1000, alias="KATSUO_QUERY_CONCURRENCY_TOTAL")
    # Collected data older than this many days is deleted daily (0: kept for ever); a website's
    # own setting overrides it (ops/retention.py).
    retention_days: int = Field(0, ge=0, le=MAX_RETENTION_DAYS, alias="KATSUO_RETENTION_DAYS")
    # Security and identity. APP_SECRET falls back to DATABASE_URL as in Umami, then to a random
    # secret kept beside the embedded database (from_env).
    app_secret: Text = Field("", alias="APP_SECRET")
    salt_rotation: Annotated[
        Literal["day", "week", "month"], BeforeValidator(lambda raw: str(raw).strip().lower())
    ] = Field("month", alias="SALT_ROTATION")
    use_uuidv7: Switch = Field(False, alias="USE_UUIDV7")
    disable_login: Switch = Field(False, alias="DISABLE_LOGIN")
    force_ssl: Switch = Field(False, alias="FORCE_SSL")
    allowed_frame_urls: Annotated[str, BeforeValidator(lambda raw: " ".join(str(raw).split()))] = (
        Field("", alias="ALLOWED_FRAME_URLS")
    )
    cors_max_age: int = Field(86400, ge=0, le=10**9, alias="CORS_MAX_AGE")
    # Collection
    disable_bot_check: Switch = Field(False, alias="DISABLE_BOT_CHECK")
    ignore_ip: Networks = Field((), alias="IGNORE_IP")
    client_ip_header: Annotated[str, BeforeValidator(_header_name)] = Field(
        "", alias="CLIENT_IP_HEADER"
    )
    # Reverse proxies whose forwarding headers give the client IP for security decisions (login
    # throttling); empty: the socket peer is the client.
    trusted_proxies: Networks = Field((), alias="KATSUO_TRUSTED_PROXIES")
    skip_location_headers: Switch = Field(False, alias="SKIP_LOCATION_HEADERS")
    geo_database_url: Text = Field("", alias="GEO_DATABASE_URL")
    geolite_db_path: Text = Field("", alias="GEOLITE_DB_PATH")
    remove_trailing_slash: Switch = Field(False, alias="REMOVE_TRAILING_SLASH")
    collect_api_endpoint: Annotated[str, BeforeValidator(_path_prefix)] = Field(
        "/api/send", alias="COLLECT_API_ENDPOINT"
    )
    collect_api_host: Annotated[str, BeforeValidator(lambda raw: str(raw).strip().rstrip("/"))] = (
        Field("", alias="COLLECT_API_HOST")
    )
    tracker_script_names: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_script_names)] = (
        Field((), alias="TRACKER_SCRIPT_NAME")
    )
    tracker_script_url: Annotated[str, BeforeValidator(_url_of("http", "https"))] = Field(
        "", alias="TRACKER_SCRIPT_URL"
    )
    bench_noop: Switch = Field(False, alias="KATSUO_BENCH_NOOP")  # the benchmark's no-op route
    # Modes and UI
    base_path: Annotated[str, BeforeValidator(_path_prefix)] = Field("", alias="BASE_PATH")
    private_mode: Switch = Field(False, alias="PRIVATE_MODE")
    disable_telemetry: Switch = Field(False, alias="DISABLE_TELEMETRY")
    disable_updates: Switch = Field(False, alias="DISABLE_UPDATES")
    disable_ui: Switch = Field(False, alias="DISABLE_UI")
    enable_test_console: Switch = Field(False, alias="ENABLE_TEST_CONSOLE")
    favicon_url: Text = Field(
        "https://icons.duckduckgo.com/ip3/{{domain}}.ico", alias="FAVICON_URL"
    )
    links_url: Text = Field("", alias="LINKS_URL")
    pixels_url: Text = Field("", alias="PIXELS_URL")
    default_locale: Text = Field("en-US", alias="DEFAULT_LOCALE")
    default_currency: Annotated[str, BeforeValidator(lambda raw: str(raw).strip().upper())] = Field(
        "USD", alias="DEFAULT_CURRENCY"
    )
    # Process
    hostname: Text = Field("0.0.0.0", alias="HOSTNAME")
    port: int = Field(3000, ge=1, le=65535, alias="PORT")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.clickhouse_cluster and not self.clickhouse_url:
            raise ValueError("KATSUO_CLICKHOUSE_CLUSTER needs CLICKHOUSE_URL")
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_other_sources):
        # Settings(...) takes only what it is given; from_env is the one reader of the environment.
        return (init_settings,)

    @property
    def engine(self) -> str:
        return "postgresql" if self.database_url else "duckdb"

    @property
    def secret(self) -> str:
        """The derived secret S: hex SHA-512 of APP_SECRET, as Umami computes it (docs/ids.md)."""
        return hashlib.sha512(self.app_secret.encode()).hexdigest()

    @property
    def duckdb_memory_bytes(self) -> int | None:
        """KATSUO_DUCKDB_MEMORY in bytes (KB, MB… are powers of 1000, KiB, MiB… of 1024, as in
        DuckDB); None when unset."""
        if not self.duckdb_memory:
            return None
        number, unit = _MEMORY_SIZE.fullmatch(self.duckdb_memory).groups()
        base = 1024 if unit.upper().endswith("IB") else 1000
        return int(float(number) * base ** ("KMGT".index(unit[0].upper()) + 1))

    @property
    def duckdb_path(self) -> Path:
        return self.data_dir / "katsuo.duckdb"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, load_dotenv: bool = True
    ) -> Settings:
        """The settings of `env` (default: the process environment over `./.env`)."""
        if env is None:
            dotenv = dotenv_values(Path.cwd() / ".env") if load_dotenv else {}
            env = {**{k: v for k, v in dotenv.items() if v is not None}, **os.environ}
        values = _Variables(cls, env)()
        if _switch_set(values, "skip_db_check"):
            values["SKIP_DB_MIGRATION"] = "1"
        if not str(values.get("APP_SECRET", "")).strip():
            values["APP_SECRET"] = values.get("DATABASE_URL") or _persistent_secret(
                Path(str(values.get("KATSUO_DATA_DIR", "data")))
            )
        try:
            return cls(**values)
        except ValidationError as error:
            raise ConfigError(_describe(error)) from None


class _Variables(EnvSettingsSource):
    """pydantic-settings' reading of environment variables, over a given mapping."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]):
        self._variables = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name: value for name, value in self._variables.items() if value.strip() != ""}


def _switch_set(values: Mapping[str, Any], field: str) -> bool:
    alias = Settings.model_fields[field].alias
    try:
        return _switch(values.get(alias, ""))
    except ValueError:
        return False  # reported by the validation that follows


def _describe(error: ValidationError) -> str:
    """The first problem, in the words a person setting variables needs: which variable, why."""
    first = error.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:
        return message
    field = Settings.model_fields.get(str(first["loc"][0]))
    name = field.alias if field and field.alias else str(first["loc"][0])
    if first["type"] == "value_error":
        return f"{name} {message}"
    return f"{name}: {message[0].lower()}{message[1:]}, got {first['input']!r}"


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
