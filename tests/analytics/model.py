"""An independent model of the traffic the analytics tests send, and of what Umami's read API
must answer for it: plain Python over the list of hits, written from the specification
(docs/query-formulas.md), sharing no code with katsuo.analytics."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Visitor:
    key: str
    ip: str
    browser: str
    os: str
    device: str
    screen: str
    language: str
    country: str | None
    region: str | None  # the CF-Region-Code header value (stored as "<country>-<code>")
    city: str | None
    distinct_id: str | None = None

    @property
    def user_agent(self) -> str:
        return f"Mozilla/5.0 (X11; Linux x86_64) KatsuoTest/{self.key}"

    @property
    def stored_region(self) -> str | None:
        return f"{self.country}-{self.region}" if self.country and self.region else None


@dataclass
class Hit:
    visitor: Visitor
    at: datetime  # UTC, whole seconds
    url: str  # path?query#hash
    title: str | None = None
    referrer: str | None = None
    name: str | None = None  # custom event
    data: dict | None = None
    tag: str | None = None
    hostname: str = "example.com"
    website: str = "main"
    identify: dict | None = None  # an identify call instead of an event
    id: str = field(default="")  # the event id, learnt after sending

    # --- what the server stores --------------------------------------------------------------

    @property
    def session(self) -> tuple:
        """Sessions: per distinct id, else per visitor and calendar month (the salt)."""
        if self.visitor.distinct_id:
            return ("id", self.visitor.distinct_id)
        return (self.visitor.key, self.at.year, self.at.month)

    @property
    def visit(self) -> tuple:
        """Without a cache token a visit is session × clock hour (docs/ids.md#visit-ids)."""
        return (self.session, self.at.replace(minute=0, second=0))

    @property
    def event_type(self) -> int:
        return 2 if self.name else 1

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"#{parts.fragment}" if parts.fragment else "")

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    def utm(self, name: str) -> str | None:
        return dict(parse_qsl(self.query)).get(f"utm_{name}")

    @property
    def referrer_domain(self) -> str | None:
        if not self.referrer:
            return None
        host = urlsplit(self.referrer).hostname or ""
        return re.sub(r"^www.", "", host)

    @property
    def ts(self) -> float:
        return self.at.timestamp()

    def column(self, name: str):
        v = self.visitor
        return {
            "url_path": self.path,
            "url_query": self.query,
            "referrer_domain": self.referrer_domain,
            "page_title": self.title,
            "hostname": self.hostname,
            "event_name": self.name,
            "tag": self.tag,
            "utm_source": self.utm("source"),
            "utm_medium": self.utm("medium"),
            "utm_campaign": self.utm("campaign"),
            "utm_content": self.utm("content"),
            "utm_term": self.utm("term"),
            "event_type": self.event_type,
            "browser": v.browser,
            "os": v.os,
            "device": v.device,
            "screen": v.screen,
            "language": v.language,
            "country": v.country,
            "region": v.stored_region,
            "city": v.city,
            "distinct_id": v.distinct_id,
        }[name]


FIELD_COLUMNS = {
    "path": "url_path",
    "referrer": "referrer_domain",
    "title": "page_title",
    "query": "url_query",
    "hostname": "hostname",
    "tag": "tag",
    "event": "event_name",
    "utmSource": "utm_source",
    "utmMedium": "utm_medium",
    "utmCampaign": "utm_campaign",
    "utmContent": "utm_content",
    "utmTerm": "utm_term",
    "browser": "browser",
    "os": "os",
    "device": "device",
    "country": "country",
    "region": "region",
    "city": "city",
    "language": "language",
    "distinctId": "distinct_id",
    "domain": "referrer_domain",
    "entry": "url_path",
    "exit": "url_path",
    "eventType": "event_type",
}


def matches(value, op: str, operand: str) -> bool:
    """A filter operator on one stored value, with PostgreSQL's NULL behaviour."""
    if value is None:
        return False
    text = str(value)
    if op == "eq":
        return text in operand.split(",")
    if op == "neq":
        return text not in operand.split(",")
    if op in ("c", "dnc"):
        found = operand.lower() in text.lower()
        return found if op == "c" else not found
    found = re.search(operand, text, re.IGNORECASE) is not None
    return found if op == "re" else not found


def self_referral(hit: Hit) -> bool:
    domain = hit.referrer_domain
    return domain is not None and domain == re.sub(r"^www.", "", hit.hostname)


@dataclass
class Model:
    hits: list[Hit]
    websites: dict[str, str]  # model name -> website id

    # --- selection ---------------------------------------------------------------------------

    def select(
        self,
        start: datetime,
        end: datetime,
        filters: dict | None = None,
        *,
        match: str = "all",
        types: str | None = "views",
        website: str = "main",
        sessions: set | None = None,
    ) -> list[Hit]:
        """Events in [start, end] (inclusive) passing the filters (`{name: (op, value)}`)."""
        chosen = []
        for hit in self.hits:
            if hit.identify is not None or hit.website != website or not (start <= hit.at <= end):
                continue
            if (
                types == "views"
                and hit.event_type == 2
                or types == "custom"
                and hit.event_type != 2
            ):
                continue
            if sessions is not None and hit.session not in sessions:
                continue
            if filters and not self._passes(hit, filters, match):
                continue
            chosen.append(hit)
        return chosen

    def _passes(self, hit: Hit, filters: dict, match: str) -> bool:
        results = []
        for name, (op, operand) in filters.items():
            base = name.rstrip("0123456789")
            results.append(matches(hit.column(FIELD_COLUMNS[base]), op, operand))
            if base == "referrer" and self_referral(hit):
                return False  # the referrer filter's side effect drops self-referrals
        return any(results) if match == "any" else all(results)

    # --- website statistics --------------------------------------------------------------------

    @staticmethod
    def totals(hits: list[Hit]) -> dict:
        visits: dict = defaultdict(list)
        for hit in hits:
            visits[hit.visit].append(hit.ts)
        return {
            "pageviews": len(hits),
            "visitors": len({h.session for h in hits}),
            "visits": len(visits),
            "bounces": sum(1 for times in visits.values() if len(times) == 1),
            "totaltime": sum(math.floor(max(t) - min(t)) for t in visits.values()),
        }

    @staticmethod
    def bucket(at: datetime, unit: str, zone: str | None) -> str:
        local = at if zone in (None, "utc") else at.astimezone(ZoneInfo(zone))
        start = {
            "minute": local.replace(second=0),
            "hour": local.replace(minute=0, second=0),
            "day": local.replace(hour=0, minute=0, second=0),
            "month": local.replace(day=1, hour=0, minute=0, second=0),
            "year": local.replace(month=1, day=1, hour=0, minute=0, second=0),
        }[unit]
        return start.strftime(
            "%Y-%m-%dT%H:%M:%SZ" if zone in (None, "utc") else "%Y-%m-%d %H:%M:%S"
        )

    def series(self, hits: list[Hit], unit: str, zone: str | None) -> tuple[list, list]:
        views: dict = defaultdict(int)
        sessions: dict = defaultdict(set)
        for hit in hits:
            label = self.bucket(hit.at, unit, zone)
            views[label] += 1
            sessions[label].add(hit.session)
        return (
            [{"x": k, "y": views[k]} for k in sorted(views)],
            [{"x": k, "y": len(sessions[k])} for k in sorted(sessions)],
        )

    @staticmethod
    def distinct_per(hits: list[Hit], key) -> dict:
        found: dict = defaultdict(set)
        for hit in hits:
            x = key(hit)
            if x not in (None, ""):
                found[x].add(hit.session)
        return {x: len(s) for x, s in found.items()}

    def entry_exit(
        self, start: datetime, end: datetime, first: bool, website: str = "main"
    ) -> dict:
        """Each visit's first (or last) view in range, over all the website's views."""
        chosen: dict = {}
        for hit in self.select(start, end, website=website):
            current = chosen.get(hit.visit)
            if current is None or (hit.at < current.at if first else hit.at > current.at):
                chosen[hit.visit] = hit
        return {visit: hit.path for visit, hit in chosen.items()}

    def expanded(self, hits: list[Hit], key) -> dict:
        groups: dict = defaultdict(list)
        for hit in hits:
            groups[(key(hit), hit.session, hit.visit)].append(hit.ts)
        rows: dict = defaultdict(
            lambda: {
                "pageviews": 0,
                "visitors": set(),
                "visits": set(),
                "bounces": 0,
                "totaltime": 0,
            }
        )
        for (name, session, visit), times in groups.items():
            if name in (None, ""):
                continue
            row = rows[name]
            row["pageviews"] += len(times)
            row["visitors"].add(session)
            row["visits"].add(visit)
            row["bounces"] += len(times) == 1
            row["totaltime"] += math.floor(max(times) - min(times))
        return {
            name: {**r, "visitors": len(r["visitors"]), "visits": len(r["visits"])}
            for name, r in rows.items()
        }


def previous_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """`prev`: both ends back by the range length in whole (truncated) minutes."""
    minutes = int((end - start).total_seconds() // 60)
    return start - timedelta(minutes=minutes), end - timedelta(minutes=minutes)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def iso(moment: datetime) -> str:
    """A report body's date: ISO 8601 in UTC with milliseconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def at(text: str) -> datetime:
    """'2026-03-07 10:15:00' (UTC) -> datetime; ms allowed: '2026-03-07 10:15:00.123'."""
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)
