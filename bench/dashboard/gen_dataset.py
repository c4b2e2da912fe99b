"""Load the reference benchmark's synthetic traffic straight into Katsuo's store.

A port of ../shared/bench/gen_dataset.sql (the workload Umami 3.1 was measured with) to DuckDB:
same shape — sessions = events / 4.31, ~40 % single-event sessions, 1-3 visits per session,
events 20-170 s apart, recency and diurnal skew, 120 Zipf-like paths, 50 referrer domains (~40 %
direct), ~8 % UTM landings, ~10 % custom events with data, correlated device/os/browser, 40
locations. Random numbers come from DuckDB's `hash` instead of PostgreSQL's `hashint8extended`, so
the rows are not byte-identical to the PostgreSQL generator's, only identically distributed.

For PostgreSQL it runs the shared generator itself (`gen_dataset.sh` through psql), so both
engines get the reference shape. Noise websites (`--noise K`) get the same shape with a tenth of
the events each, interleaved in time with the main website's rows, as on a shared server.

usage:
  gen_dataset.py --data-dir DIR | --database-url URL  --website UUID --events N
                 [--days 90] [--end '2026-05-01 00:00:00+00'] [--seed 1] [--noise 2]
                 [--clickhouse-url URL [--copy-only]]

With --clickhouse-url the DuckDB dataset's collected data is then copied into ClickHouse (the
management tables stay in the DuckDB folder, which a ClickHouse-backed Katsuo uses beside it).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _shared_generator() -> Path:
    """The reference generator: $KATSUO_SHARED_BENCH, else a `shared/bench` beside a parent folder."""
    if os.environ.get("KATSUO_SHARED_BENCH"):
        return Path(os.environ["KATSUO_SHARED_BENCH"]) / "gen_dataset.sh"
    for parent in HERE.parents:
        if (parent / "shared" / "bench" / "gen_dataset.sh").exists():
            return parent / "shared" / "bench" / "gen_dataset.sh"
    return Path("shared/bench/gen_dataset.sh")


SHARED_GEN = _shared_generator()
ADMIN_ID = "41e2b680-648e-4b09-bcd7-3e2b10c06264"

GEO = [
    "US|US-CA|San Francisco|en-US",
    "US|US-NY|New York|en-US",
    "GB|GB-ENG|London|en-GB",
    "DE|DE-BE|Berlin|de-DE",
    "IN|IN-KA|Bengaluru|en-IN",
    "US|US-TX|Austin|en-US",
    "FR|FR-IDF|Paris|fr-FR",
    "US|US-WA|Seattle|en-US",
    "CA|CA-ON|Toronto|en-CA",
    "BR|BR-SP|São Paulo|pt-BR",
    "DE|DE-BY|Munich|de-DE",
    "NL|NL-NH|Amsterdam|nl-NL",
    "JP|JP-13|Tokyo|ja-JP",
    "IN|IN-MH|Mumbai|en-IN",
    "ES|ES-MD|Madrid|es-ES",
    "AU|AU-NSW|Sydney|en-AU",
    "US|US-IL|Chicago|en-US",
    "PL|PL-14|Warsaw|pl-PL",
    "IT|IT-25|Milan|it-IT",
    "CN|CN-SH|Shanghai|zh-CN",
    "SE|SE-AB|Stockholm|sv-SE",
    "KR|KR-11|Seoul|ko-KR",
    "GB|GB-SCT|Edinburgh|en-GB",
    "CA|CA-BC|Vancouver|en-CA",
    "MX|MX-CMX|Mexico City|es-MX",
    "RU|RU-MOW|Moscow|ru-RU",
    "TR|TR-34|Istanbul|tr-TR",
    "FR|FR-ARA|Lyon|fr-FR",
    "IN|IN-DL|Delhi|hi-IN",
    "ID|ID-JK|Jakarta|id-ID",
    "ES|ES-CT|Barcelona|es-ES",
    "IT|IT-62|Rome|it-IT",
    "AU|AU-VIC|Melbourne|en-AU",
    "CH|CH-ZH|Zurich|de-CH",
    "AT|AT-9|Vienna|de-AT",
    "BE|BE-BRU|Brussels|fr-BE",
    "NG|NG-LA|Lagos|en-NG",
    "ZA|ZA-GT|Johannesburg|en-ZA",
    "AR|AR-C|Buenos Aires|es-AR",
    "JP|JP-27|Osaka|ja-JP",
]
PATHS = [
    "/",
    "/pricing",
    "/features",
    "/signup",
    "/docs",
    "/blog",
    "/login",
    "/about",
    "/docs/getting-started",
    "/contact",
    "/docs/install",
    "/docs/api",
    "/changelog",
    "/integrations",
    "/customers",
    "/careers",
    "/security",
    "/privacy",
    "/terms",
    "/status",
    *(f"/blog/post-{g}" for g in range(1, 61)),
    *(f"/docs/page-{g}" for g in range(1, 41)),
]
REFERRERS = [
    "google.com",
    "bing.com",
    "news.ycombinator.com",
    "reddit.com",
    "t.co",
    "duckduckgo.com",
    "github.com",
    "linkedin.com",
    "facebook.com",
    "twitter.com",
    "youtube.com",
    "producthunt.com",
    "medium.com",
    "dev.to",
    "stackoverflow.com",
    "yahoo.com",
    "baidu.com",
    "yandex.ru",
    "instagram.com",
    "pinterest.com",
    *(f"partner-site-{g}.com" for g in range(1, 31)),
]
EVENT_NAMES = [
    "signup-click",
    "cta-click",
    "outbound-link",
    "download",
    "play-video",
    "newsletter-subscribe",
    "purchase",
    "search",
    "share",
    "copy-code",
]
UTMS = [
    "newsletter|email|spring_sale",
    "twitter|social|launch",
    "google|cpc|brand",
    "facebook|social|retargeting",
    "partner|referral|affiliate",
]


def initcap(text: str) -> str:
    """PostgreSQL's initcap: upper-case the first letter of every alphanumeric run."""
    return re.sub(r"[A-Za-z0-9]+", lambda m: m.group(0)[0].upper() + m.group(0)[1:].lower(), text)


def title_for(path: str) -> str:
    return "Example - Home" if path == "/" else "Example - " + initcap(path[1:].replace("/", " "))


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def generate_duckdb(
    con,
    website_id: str,
    name: str,
    n_events: int,
    days: int,
    end_ts: str,
    seed: int,
    owner: str = ADMIN_ID,
) -> None:
    """Append one website's synthetic traffic to the Umami tables of a DuckDB database."""
    salt = seed * 1000
    n_sessions = -(-n_events * 100 // 431)
    con.execute(
        "insert into website (website_id, name, domain, user_id, created_by, created_at) "
        "select ?, ?, 'example.com', ?, ?, ?::timestamptz - to_days(? + 1) "
        "where not exists (select 1 from website where website_id = ?)",
        [website_id, name, owner, owner, end_ts, days, website_id],
    )
    con.execute("create or replace temp table gen_titles (path varchar, title varchar)")
    con.executemany("insert into gen_titles values (?, ?)", [(p, title_for(p)) for p in PATHS])
    # u(i, k): a uniform number in [0, 1) derived from (i, seed, k) only, so reruns are identical.
    # (One hashed integer: DuckDB's hash of a tuple correlates neighbouring k strongly.)
    con.execute(f"""
        create or replace temp macro u(i, k) as
            (hash(i::hugeint * 1048576 + {salt} + k) & 9007199254740991)::double / 9007199254740992.0""")
    con.execute("""
        create or replace temp macro pick(arr, x, p) as
            arr[1 + floor(len(arr) * pow(x, p))::int]""")
    con.execute(
        f"""
        create or replace temp table gen_sess as
        with raw as (
          select s, u(s, 11) u_bounce, u(s, 12) u_len, u(s, 13) u_visits, u(s, 14) u_gap,
                 u(s, 15) u_step, u(s, 21) u_day,
                 u(s, 22) + u(s, 23) + u(s, 24) + u(s, 25) - 2.0 as z_hour,
                 u(s, 26) u_min, u(s, 31) u_dev, u(s, 32) u_os, u(s, 33) u_br, u(s, 34) u_scr,
                 u(s, 35) u_geo, u(s, 36) u_lang
          from range(1, {n_sessions} + 1) t(s)
        ), shaped as (
          select *,
                 case when u_bounce < 0.40 then 1
                      else least(60, 2 + floor(-ln(1.0 - u_len) * 5.0)::int) end as k,
                 ({days} - 1) * (1.0 - pow(u_day, 0.85)) as days_back,
                 ((15.0 + 4.4 * z_hour * 1.7320508 + 48.0) % 24.0) as hour
          from raw
        ), shaped2 as (
          select *,
                 case when k = 1 then 1 when u_visits < 0.70 then 1 when u_visits < 0.90 then 2
                      else least(3, k) end as v,
                 20 + u_step * 150 as step_s,
                 date_trunc('day', ?::timestamptz - to_microseconds((days_back * 86400e6)::bigint))
                   + to_microseconds(((hour * 3600 + u_min * 60) * 1e6)::bigint) as start0
          from shaped
        ), shaped3 as (
          select *, least((1 + floor(u_gap * 6))::int, floor(days_back / v)::int) as gap_days
          from shaped2
        ), shaped4 as (
          select *, to_days((v - 1) * gap_days) + to_hours((v - 1) * 2)
                    + to_microseconds(((k * step_s + 60) * 1e6)::bigint) as span
          from shaped3
        )
        select s, md5(?::varchar || ':s:' || s)::uuid as session_id, k, v, gap_days, step_s,
               case when start0 + span > ?::timestamptz
                    then start0 - to_days(ceil(epoch(start0 + span - ?::timestamptz) / 86400.0)::int)
                    else start0 end as start_ts,
               u_dev, u_os, u_br, u_scr, u_geo, u_lang
        from shaped4
    """,
        [end_ts, website_id, end_ts, end_ts],
    )
    con.execute(
        f"""
        insert into session (session_id, website_id, browser, os, device, screen, language,
                             country, region, city, distinct_id, created_at)
        select session_id, ?, browser, os, device, screen,
               case when u_lang < 0.85 then split_part(g, '|', 4) else 'en-US' end,
               split_part(g, '|', 1), split_part(g, '|', 2), split_part(g, '|', 3), null, start_ts
        from (
          select *,
            case
              when os = 'iOS' then case when u_br < 0.72 then 'ios' when u_br < 0.92 then 'crios'
                                        when u_br < 0.96 then 'facebook' else 'instagram' end
              when os = 'Android OS' then case when u_br < 0.75 then 'chrome' when u_br < 0.90 then 'samsung'
                                               when u_br < 0.95 then 'firefox' else 'opera' end
              when os = 'Mac OS' then case when u_br < 0.50 then 'safari' when u_br < 0.90 then 'chrome'
                                           else 'firefox' end
              when os in ('Windows 10', 'Windows 7') then
                   case when u_br < 0.70 then 'chrome' when u_br < 0.90 then 'edge-chromium'
                        when u_br < 0.98 then 'firefox' else 'opera' end
              when os = 'Linux' then case when u_br < 0.55 then 'chrome' else 'firefox' end
              else 'chrome' end as browser,
            case device
              when 'mobile' then pick(['390x844','414x896','375x667','412x915','360x800','393x873'], u_scr, 1.5)
              when 'tablet' then pick(['768x1024','810x1080','820x1180'], u_scr, 1.5)
              when 'laptop' then pick(['1920x1080','1536x864','1366x768','1440x900','1280x720','1680x1050'], u_scr, 1.5)
              else pick(['2560x1440','3440x1440','3840x2160','2560x1080'], u_scr, 1.5) end as screen,
            pick({_sql_list(GEO)}, u_geo, 2.2) as g
          from (
            select *,
              case when device = 'mobile' then case when u_os < 0.45 then 'iOS' else 'Android OS' end
                   when device = 'tablet' then case when u_os < 0.70 then 'iOS' else 'Android OS' end
                   else case when u_os < 0.55 then 'Windows 10' when u_os < 0.85 then 'Mac OS'
                             when u_os < 0.93 then 'Linux' when u_os < 0.97 then 'Chrome OS'
                             else 'Windows 7' end end as os
            from (select *, case when u_dev < 0.45 then 'laptop' when u_dev < 0.57 then 'desktop'
                                 when u_dev < 0.95 then 'mobile' else 'tablet' end as device
                  from gen_sess)
          )
        )
    """,
        [website_id],
    )
    # Events go to a staging table first: the caller appends all websites' events to
    # website_event in time order, the way a live server writes them.
    con.execute(
        f"""
        insert into gen_events
        with ev as (
          select gs.*, j, floor(j * gs.v / gs.k)::int as vi, gs.s * 64 + j as eid
          from gen_sess gs, range(0, gs.k) t(j)
        ), ev2 as (
          select *, j - ceil(vi * k / v)::int as pos,
                 u(eid, 41) u_type, u(eid, 42) u_path, u(eid, 43) u_ref, u(eid, 44) u_refd,
                 u(eid, 45) u_utm, u(eid, 46) u_name, u(eid, 47) u_rpath
          from ev
        ), ev3 as (
          select *, (pos > 0 and u_type < 0.10) as is_custom, (pos = 0 and u_utm < 0.08) as has_utm,
                 pick({_sql_list(PATHS)}, u_path, case when pos = 0 then 3.0 else 2.2 end) as path,
                 pick({_sql_list(REFERRERS)}, u_refd, 2.2) as refd,
                 pick({_sql_list(EVENT_NAMES)}, u_name, 1.6) as ev_name,
                 pick({_sql_list(UTMS)}, u_utm / 0.08, 1.3) as utm,
                 pick({_sql_list(PATHS)}, u_rpath, 2.2) as rpath
          from ev2
        )
        select md5(?::varchar || ':e:' || s || ':' || j)::uuid, ?::uuid, session_id,
               md5(session_id::varchar || ':v:' || vi)::uuid,
               start_ts + to_days(vi * gap_days) + to_hours(vi * 2)
                 + to_microseconds((pos * step_s * 1e6)::bigint),
               path,
               case when has_utm then 'utm_source=' || split_part(utm, '|', 1) || '&utm_medium='
                    || split_part(utm, '|', 2) || '&utm_campaign=' || split_part(utm, '|', 3) else '' end,
               case when has_utm then split_part(utm, '|', 1) end,
               case when has_utm then split_part(utm, '|', 2) end,
               case when has_utm then split_part(utm, '|', 3) end,
               case when pos > 0 then rpath when u_ref < 0.40 then null else '/' end,
               case when pos = 0 and u_ref < 0.40 then null else '' end,
               case when pos > 0 then 'example.com' when u_ref < 0.40 then null else refd end,
               (select title from gen_titles t where t.path = ev3.path),
               case when is_custom then 2 else 1 end,
               case when is_custom then ev_name end,
               'example.com'
        from ev3
    """,
        [website_id, website_id],
    )


def _event_data_sql() -> str:
    """One event_data row per custom event ('purchase' gets revenue + currency), like the original."""
    return """
        insert into event_data (event_data_id, website_id, website_event_id, data_key, string_value,
                                number_value, date_value, data_type, created_at)
        select md5(e.event_id::varchar || ':d:' || kv.n)::uuid, e.website_id, e.event_id,
               kv.data_key, kv.string_value, kv.number_value, null, kv.data_type, e.created_at
        from gen_events e,
        lateral (
          select 1 as n,
                 case e.event_name when 'purchase' then 'revenue' when 'signup-click' then 'plan'
                      when 'download' then 'file' when 'search' then 'query' else 'label' end as data_key,
                 case e.event_name
                   when 'purchase' then (10 + hash(e.event_id::varchar || 'r') % 490)::varchar || '.0000'
                   when 'signup-click' then ['free','pro','enterprise'][1 + (hash(e.event_id) % 3)::int]
                   when 'download' then ['app.dmg','app.exe','app.deb'][1 + (hash(e.event_id) % 3)::int]
                   when 'search' then ['pricing','api','install','docker','sso'][1 + (hash(e.event_id) % 5)::int]
                   else ['header','footer','hero','sidebar'][1 + (hash(e.event_id) % 4)::int] end as string_value,
                 case when e.event_name = 'purchase'
                      then (10 + hash(e.event_id::varchar || 'r') % 490)::decimal(19, 4) end as number_value,
                 case when e.event_name = 'purchase' then 2 else 1 end as data_type
          union all
          select 2, 'currency', 'USD', null, 1 where e.event_name = 'purchase'
        ) kv
        where e.event_type = 2
    """


def load_duckdb(
    path: Path, websites: list[tuple[str, str, int]], days: int, end_ts: str, seed: int
) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "create or replace temp table gen_events as select * exclude "
        "(gclid, fbclid, msclkid, ttclid, li_fat_id, twclid, tag, lcp, inp, fcp, ttfb, cls, "
        "utm_content, utm_term) from website_event limit 0"
    )
    for i, (website_id, name, n_events) in enumerate(websites):
        t0 = time.time()
        generate_duckdb(con, website_id, name, n_events, days, end_ts, seed + i)
        print(f"  {name}: sessions and events generated in {time.time() - t0:.1f} s", flush=True)
    t0 = time.time()
    cols = (
        "event_id, website_id, session_id, visit_id, created_at, url_path, url_query, utm_source, "
        "utm_medium, utm_campaign, referrer_path, referrer_query, referrer_domain, page_title, "
        "event_type, event_name, hostname"
    )
    con.execute(
        f"insert into website_event ({cols}) select {cols} from gen_events order by created_at"
    )
    con.execute(_event_data_sql() + " order by e.created_at")
    con.execute("checkpoint")
    counts = con.execute(
        "select (select count(*) from session), (select count(*) from website_event), "
        "(select count(*) from event_data), (select min(created_at) from website_event), "
        "(select max(created_at) from website_event)"
    ).fetchone()
    print(
        f"  events appended in time order in {time.time() - t0:.1f} s; totals: sessions={counts[0]} "
        f"events={counts[1]} event_data={counts[2]} first={counts[3]} last={counts[4]}",
        flush=True,
    )
    con.close()


def load_postgresql(
    url: str, websites: list[tuple[str, str, int]], days: int, end_ts: str, seed: int
) -> None:
    if not SHARED_GEN.exists():
        sys.exit(
            f"gen_dataset: the shared generator is not at {SHARED_GEN} (set KATSUO_SHARED_BENCH)"
        )
    for i, (website_id, name, n_events) in enumerate(websites):
        subprocess.run(
            [
                "bash",
                str(SHARED_GEN),
                url,
                website_id,
                str(n_events),
                str(days),
                end_ts,
                str(seed + i),
                name,
            ],
            check=True,
        )


def ensure_schema(settings_env: dict[str, str]) -> None:
    """Create Katsuo's tables (and the default admin) the way the server does at start."""
    from katsuo.config import Settings
    from katsuo.store import migrations
    from katsuo.store.database import Database

    db = Database(Settings.from_env(settings_env, load_dotenv=False))
    try:
        migrations.migrate(db)
    finally:
        db.close()


_ATTRIBUTES = ("browser", "os", "device", "screen", "language", "country", "region", "city")


def _umami_rows() -> dict[str, str]:
    """DuckDB queries giving the ClickHouse layout's rows (Umami's: the session's attributes on
    each event row, '' for a missing text, event data with its event's session, path and name)."""
    from katsuo.store.engines import clickhouse_layout

    ids = "CAST({0} AS VARCHAR) AS {1}"
    event = ", ".join(
        [
            *(
                ids.format(f"e.{c}", c)
                for c in ("website_id", "session_id", "visit_id", "event_id")
            ),
            "coalesce(e.hostname, '') AS hostname",
            *(f"coalesce(s.{c}, '') AS {c}" for c in _ATTRIBUTES),
            "e.url_path",
            *(f"coalesce(e.{c}, '') AS {c}" for c in clickhouse_layout.EVENT_TEXT),
            "e.lcp, e.inp, e.cls, e.fcp, e.ttfb",
            "CAST(e.event_type AS UINTEGER) AS event_type",
            "coalesce(e.event_name, '') AS event_name, coalesce(e.tag, '') AS tag",
            "coalesce(s.distinct_id, '') AS distinct_id, e.created_at",
        ]
    )
    values = "d.data_key, d.string_value, d.number_value, d.date_value, " + (
        "CAST(d.data_type AS UINTEGER) AS data_type"
    )
    return {
        "website_event": (
            f"SELECT {event} FROM website_event AS e LEFT JOIN session AS s USING (session_id)"
        ),
        "event_data": (
            "SELECT CAST(d.website_id AS VARCHAR) AS website_id, "
            "CAST(e.session_id AS VARCHAR) AS session_id, "
            "CAST(d.website_event_id AS VARCHAR) AS event_id, e.url_path, "
            f"coalesce(e.event_name, '') AS event_name, {values}, d.created_at "
            "FROM event_data AS d JOIN website_event AS e ON e.event_id = d.website_event_id"
        ),
        "session_data": (
            "SELECT CAST(d.website_id AS VARCHAR) AS website_id, "
            f"CAST(d.session_id AS VARCHAR) AS session_id, {values}, "
            "coalesce(d.distinct_id, '') AS distinct_id, d.created_at FROM session_data AS d"
        ),
        "website_revenue": (
            "SELECT CAST(website_id AS VARCHAR) AS website_id, "
            "CAST(session_id AS VARCHAR) AS session_id, CAST(event_id AS VARCHAR) AS event_id, "
            "event_name, currency, revenue, created_at FROM revenue"
        ),
    }


def copy_to_clickhouse(data_dir: str, clickhouse_url: str, chunk_rows: int = 1_000_000) -> None:
    """The generated collected data, copied from the DuckDB store into ClickHouse's layout
    (`--clickhouse-url`, docs/clickhouse.md): to a server, Arrow batches of a million rows
    through clickhouse-connect; to chdb, a Parquet file per table that chdb reads itself (about
    ten times faster than passing Arrow batches in-process). Ids travel as text, which ClickHouse
    parses into its UUID columns. Sessions and the rollups follow from the events' materialized
    views."""
    import pyarrow

    from katsuo.config import Settings
    from katsuo.store import migrations
    from katsuo.store.database import Database

    env = {"APP_SECRET": "bench", "KATSUO_DATA_DIR": data_dir, "CLICKHOUSE_URL": clickhouse_url}
    db = Database(Settings.from_env(env, load_dotenv=False))
    migrations.migrate(db)
    try:
        source = db.engine.raw_connection().driver_connection
        # Sorting 100 M joined rows for the Parquet file spills to disk under this limit instead
        # of taking most of the machine's memory beside chdb's inserts.
        source.execute("SET memory_limit = '6GB'")
        with db.events.connect() as conn:
            db.events.engines.truncate_all(conn)
            client = conn.connection.driver_connection.client
            for table, query in _umami_rows().items():
                t0 = time.time()
                if clickhouse_url.startswith("chdb://"):
                    rows = _through_parquet(source, conn, table, query, Path(data_dir))
                else:
                    rows = 0
                    for batch in source.sql(query).to_arrow_reader(chunk_rows):
                        client.insert_arrow(table, pyarrow.Table.from_batches([batch]))
                        rows += batch.num_rows
                print(f"  clickhouse: {table} {rows} rows in {time.time() - t0:.1f} s", flush=True)
    finally:
        db.close()


def _through_parquet(
    source, conn, table: str, query: str, folder: Path, chunk_rows: int = 5_000_000
) -> int:
    """One Parquet file in time order, inserted a time slice of about `chunk_rows` rows at a
    time: a single INSERT of 100 M rows outgrows memory, and time-ordered row groups let each
    slice read only its own part of the file."""
    path = folder / f"copy-{table}.parquet"
    try:
        source.execute(
            f"COPY (SELECT * FROM ({query}) ORDER BY created_at) TO '{path}' "
            "(FORMAT parquet, ROW_GROUP_SIZE 1000000)"
        )
        names = ", ".join(f"`{c}`" for c in source.sql(query).columns)
        count = f"SELECT count() FROM `{table}`"
        before = conn.exec_driver_sql(count).scalar()
        rows, first, last = source.execute(
            f"SELECT count(*), epoch_us(min(created_at)), epoch_us(max(created_at)) "
            f"FROM read_parquet('{path}')"
        ).fetchone()
        if rows == 0:
            return 0
        slices = -(-rows // chunk_rows)
        step = (last - first) // slices + 1
        for k in range(slices):
            low, high = first + k * step, first + (k + 1) * step
            conn.exec_driver_sql(
                f"INSERT INTO `{table}` ({names}) SELECT {names} FROM file('{path}', Parquet) "
                f"WHERE toUnixTimestamp64Micro(created_at) >= {low} "
                f"AND toUnixTimestamp64Micro(created_at) < {high}"
            )
            if slices > 1:
                done = conn.exec_driver_sql(count).scalar() - before
                print(f"    {table}: slice {k + 1}/{slices}, {done}/{rows} rows", flush=True)
        return conn.exec_driver_sql(count).scalar() - before
    finally:
        path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = ap.add_mutually_exclusive_group(required=True)
    target.add_argument("--data-dir", help="Katsuo data folder (embedded DuckDB)")
    target.add_argument("--database-url", help="postgresql://… (runs the shared generator)")
    ap.add_argument("--website", default="7a1b0000-0000-4000-8000-000000000001")
    ap.add_argument("--events", type=int, required=True)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--end", default=None, help="newest event time (default: this hour, UTC)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--noise", type=int, default=2, help="extra websites with a tenth of the events each"
    )
    ap.add_argument(
        "--clickhouse-url",
        help="then copy the collected data into ClickHouse (http://…/db or chdb:///dir)",
    )
    ap.add_argument(
        "--copy-only", action="store_true", help="only copy an existing --data-dir to ClickHouse"
    )
    a = ap.parse_args(argv)
    if a.copy_only:
        copy_to_clickhouse(a.data_dir, a.clickhouse_url)
        return
    end_ts = a.end or time.strftime("%Y-%m-%d %H:00:00+00", time.gmtime())
    websites = [(a.website, f"bench-{a.events}", a.events)]
    for k in range(a.noise):
        noise_id = str(uuid.uuid5(uuid.UUID(a.website), f"noise-{k}"))
        websites.append((noise_id, f"noise-{k + 1}", max(1000, a.events // 10)))
    env = {"APP_SECRET": "bench", "SKIP_DB_CHECK": "0"}
    if a.data_dir:
        env["KATSUO_DATA_DIR"] = a.data_dir
    else:
        env["DATABASE_URL"] = a.database_url
    ensure_schema(env)
    print(
        f"gen_dataset: {len(websites)} websites, main {a.website} with {a.events} events over {a.days} "
        f"days ending {end_ts}",
        flush=True,
    )
    t0 = time.time()
    if a.data_dir:
        load_duckdb(Path(a.data_dir) / "katsuo.duckdb", websites, a.days, end_ts, a.seed)
    else:
        load_postgresql(a.database_url, websites, a.days, end_ts, a.seed)
    print(f"gen_dataset: done in {time.time() - t0:.1f} s", flush=True)
    if a.clickhouse_url:
        copy_to_clickhouse(a.data_dir, a.clickhouse_url)


if __name__ == "__main__":
    main()
