"""The stores an operator command names on its command line, as Settings for `Database`."""

from __future__ import annotations

from pathlib import Path

from katsuo.config import ConfigError, Settings


class OperatorError(RuntimeError):
    """A command cannot go on; the message says why and what to do."""


# The secret a copy or a check needs none of: given so that reading settings never writes the
# persistent secret file (config.py) into a data directory it only names.
_NO_SECRET = "katsuo-operator-command"


def store_settings(url: str, clickhouse_url: str = "", *, option: str = "--from") -> Settings:
    """`postgresql://…` or `duckdb:DIRECTORY` (the data directory holding katsuo.duckdb, e.g.
    `duckdb:///var/lib/katsuo` or `duckdb:data`), plus an optional ClickHouse events store."""
    env = {"APP_SECRET": _NO_SECRET, "KATSUO_SLICE_SETTLE_SECONDS": "0"}
    if url.startswith("duckdb:"):
        path = url.removeprefix("duckdb:")
        path = path.removeprefix("//")
        if not path:
            raise OperatorError(
                f"{option} duckdb: needs a data directory, e.g. duckdb:///srv/katsuo/data"
            )
        directory = Path(path)
        if directory.name.endswith(".duckdb"):
            if directory.name != "katsuo.duckdb":
                raise OperatorError(
                    f"{option} {url}: name the data directory (it holds katsuo.duckdb), not another file"
                )
            directory = directory.parent
        env["KATSUO_DATA_DIR"] = str(directory)
    elif url.split(":", 1)[0] in ("postgresql", "postgres"):
        env["DATABASE_URL"] = url
    else:
        raise OperatorError(
            f"{option} {url!r}: expected postgresql://user:password@host:port/database or "
            "duckdb:DATA_DIRECTORY (e.g. duckdb:///srv/katsuo/data)"
        )
    if clickhouse_url:
        env["CLICKHOUSE_URL"] = clickhouse_url
    try:
        return Settings.from_env(env, load_dotenv=False)
    except ConfigError as error:
        raise OperatorError(
            f"{option}-clickhouse: {error}" if clickhouse_url else f"{option}: {error}"
        ) from None


def describe(settings: Settings) -> str:
    """Where a store is, for messages (a PostgreSQL URL without its password)."""
    if settings.engine == "duckdb":
        where = f"DuckDB {settings.duckdb_path}"
    else:
        from sqlalchemy.engine import make_url

        where = "PostgreSQL " + make_url(settings.database_url).render_as_string(hide_password=True)
    if settings.clickhouse_url:
        where += " + ClickHouse " + settings.clickhouse_url.split("@")[-1]
    return where
