"""What each report must answer for the designed traffic, computed in plain Python from the list
of hits and the report definitions (docs/query-formulas.md#reports, the Reports docs), sharing
no code with katsuo.analytics. Quadratic and obvious on purpose: the server's queries are
neither."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.analytics.model import Hit, Model, self_referral

ISO_CURRENCIES_IN_TRAFFIC = {"EUR", "USD"}  # what the traffic sends that ISO 4217 knows


@dataclass(frozen=True)
class Selection:
    """A request's universal filters as the model sees them: filters (`{name: (op, value)}`),
    how they combine, and the sessions of a cohort (None: no cohort)."""

    filters: dict | None = None
    match: str = "all"
    cohort: frozenset | None = None

    @property
    def restricts(self) -> bool:
        return bool(self.filters) or self.cohort is not None


NONE = Selection()


class Reports:
    def __init__(self, model: Model):
        self.model = model

    def events(self, start, end, selection: Selection = NONE, types=None) -> list[Hit]:
        """Events of any type (page views 1, custom events 2, performance beacons 5) in range
        passing the selection; `types`: "views" (not 2 or 5) or "custom" (2) narrow them."""
        chosen = self.model.select(
            start,
            end,
            selection.filters,
            match=selection.match,
            types=None,
            sessions=selection.cohort,
        )
        if types == "views":
            chosen = [h for h in chosen if h.event_type not in (2, 5)]
        elif types == "custom":
            chosen = [h for h in chosen if h.event_type == 2]
        return sorted(chosen, key=lambda h: h.at)

    # --- steps -----------------------------------------------------------------------------------

    @staticmethod
    def step_matches(hit: Hit, step_type: str, value: str, data_filters=()) -> bool:
        actual = hit.path if step_type == "path" else hit.name
        if actual is None:
            return False
        if value.startswith("*") or value.endswith("*"):
            core = value.removeprefix("*")
            core = core[:-1] if value.endswith("*") and len(value) > 1 else core
            pattern = (
                (".*" if value.startswith("*") else "")
                + re.escape(core)
                + (".*" if value.endswith("*") else "")
            )
            ok = re.fullmatch(pattern, actual, re.DOTALL) is not None
        else:
            ok = actual == value
        if not ok:
            return False
        if step_type == "event":
            for condition in data_filters:
                stored = (hit.data or {}).get(condition["property"])
                if stored is None:
                    return False
                text, operand = str(stored), condition["value"]
                test = {
                    "eq": text == operand,
                    "neq": text != operand,
                    "c": operand.lower() in text.lower(),
                    "dnc": operand.lower() not in text.lower(),
                }
                if not test[condition["operator"]]:
                    return False
        return True

    # --- funnel ----------------------------------------------------------------------------------

    def funnel(
        self, start, end, steps: list[dict], window_minutes: float, selection: Selection = NONE
    ) -> list[dict]:
        window = timedelta(minutes=window_minutes)
        everything = self.events(start, end)
        level: dict = defaultdict(set)
        for hit in self.events(start, end, selection):
            if self.step_matches(
                hit, steps[0]["type"], steps[0]["value"], steps[0].get("filters") or ()
            ):
                level[hit.session].add(hit.at)
        counts = [sum(1 for times in level.values() if times)]
        for step in steps[1:]:
            following: dict = defaultdict(set)
            for hit in everything:
                if not self.step_matches(
                    hit, step["type"], step["value"], step.get("filters") or ()
                ):
                    continue
                if any(
                    before <= hit.at <= before + window for before in level.get(hit.session, ())
                ):
                    following[hit.session].add(hit.at)
            level = following
            counts.append(sum(1 for times in level.values() if times))
        rows = []
        for i, step in enumerate(steps):
            previous = counts[i - 1] if i else 0
            rows.append(
                {
                    **step,
                    "visitors": counts[i],
                    "previous": previous,
                    "dropped": previous - counts[i] if previous > 0 else 0,
                    "dropoff": None if previous == 0 else 1 - counts[i] / previous,
                    "remaining": None if counts[0] == 0 else counts[i] / counts[0],
                }
            )
        return rows

    # --- goal ------------------------------------------------------------------------------------

    def goal(self, start, end, goal_type: str, value: str, selection: Selection = NONE) -> dict:
        chosen = self.events(start, end, selection)
        wanted = 1 if goal_type == "path" else 2
        return {
            "num": len(
                {
                    h.session
                    for h in chosen
                    if h.event_type == wanted and self.step_matches(h, goal_type, value)
                }
            ),
            "total": len({h.session for h in chosen}),
        }

    # --- journey ---------------------------------------------------------------------------------

    @staticmethod
    def journey_items(sequence: list[str], steps: int) -> list:
        null, absent = "<null>", "<absent>"
        slots = sequence + [null] * (steps - len(sequence)) + [absent] * (7 - steps)
        kept = []
        for slot in slots:
            if not kept or kept[-1] != slot:
                kept.append(slot)
        return [None if slot in (null, absent) else slot for slot in kept]

    def journey(
        self,
        start,
        end,
        steps: int,
        start_step=None,
        end_step=None,
        selection: Selection = NONE,
        event_type: int | None = None,
    ) -> list[dict]:
        visits: dict = defaultdict(list)
        for hit in self.events(start, end, selection):
            if event_type is None or hit.event_type == event_type:
                visits[hit.visit].append(hit)
        counted: dict = defaultdict(int)
        for events in visits.values():
            events.sort(key=lambda h: h.at)
            sequence = tuple((h.name or h.path) for h in events[:steps])
            if start_step is not None and sequence[0] != start_step:
                continue
            if end_step is not None and sequence[-1] != end_step:
                continue
            counted[sequence] += 1
        ranked = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:100]
        return [{"items": self.journey_items(list(seq), steps), "count": n} for seq, n in ranked]

    # --- retention -------------------------------------------------------------------------------

    @staticmethod
    def local_day(moment: datetime, zone: str | None):
        return (moment.astimezone(ZoneInfo(zone)) if zone not in (None, "utc") else moment).date()

    @staticmethod
    def day_instant(day, zone: str | None) -> str:
        midnight = datetime(day.year, day.month, day.day)
        if zone not in (None, "utc"):
            midnight = midnight.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)
        return midnight.strftime("%Y-%m-%dT%H:%M:%SZ")

    def retention(self, start, end, zone: str | None, selection: Selection = NONE) -> list[dict]:
        cohort: dict = {}
        for hit in self.events(start, end, selection):
            day = self.local_day(hit.at, zone)
            cohort[hit.session] = min(day, cohort.get(hit.session, day))
        active: dict = defaultdict(set)
        for hit in self.events(start, end):
            if hit.session in cohort:
                active[hit.session].add(self.local_day(hit.at, zone))
        sizes: dict = defaultdict(int)
        for day in cohort.values():
            sizes[day] += 1
        returning: dict = defaultdict(int)
        for session, days in active.items():
            for day in days:
                offset = (day - cohort[session]).days
                if 0 <= offset <= 31:
                    returning[(cohort[session], offset)] += 1
        return [
            {
                "date": self.day_instant(day, zone),
                "day": offset,
                "visitors": sizes[day],
                "returnVisitors": n,
                "percentage": n * 100 / sizes[day],
            }
            for (day, offset), n in sorted(returning.items())
        ]

    # --- revenue ---------------------------------------------------------------------------------

    @staticmethod
    def stored_currency(code: str) -> str:
        return code if code.upper() in ISO_CURRENCIES_IN_TRAFFIC else "USD"

    def revenue_events(self, start, end, currency: str, selection: Selection = NONE) -> list[Hit]:
        chosen = (
            self.events(start, end, selection, types="custom")
            if selection.restricts
            else self.events(start, end)
        )
        return [
            h
            for h in chosen
            if h.name
            and h.data
            and "revenue" in h.data
            and self.stored_currency(h.data["currency"]).upper() == currency
        ]

    @staticmethod
    def amount(hit: Hit) -> Decimal:
        return Decimal(str(hit.data["revenue"]))

    def revenue_total(self, start, end, currency, selection: Selection = NONE) -> dict:
        paid = self.revenue_events(start, end, currency, selection)
        total = float(sum((self.amount(h) for h in paid), Decimal(0)))
        sessions = len({h.session for h in self.events(start, end)})
        return {
            "sum": total,
            "count": len(paid),
            "unique_count": len({h.session for h in paid}),
            "total_sessions": sessions,
            "average": total / len(paid) if paid else 0,
            "arpu": total / sessions if sessions else 0,
        }

    @staticmethod
    def bucket_instant(moment: datetime, unit: str, zone: str | None) -> str:
        local = moment.astimezone(ZoneInfo(zone)) if zone not in (None, "utc") else moment
        start = {
            "hour": local.replace(minute=0, second=0, microsecond=0),
            "day": local.replace(hour=0, minute=0, second=0, microsecond=0),
            "month": local.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
        }[unit]
        if zone not in (None, "utc"):
            start = start.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone))
        return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @staticmethod
    def channel(hit: Hit) -> str:
        """docs/query-formulas.md#channels with the revenue report's prefix rule; a missing
        referrer or query counts as empty; no rule → Unknown."""
        referrer, query = hit.referrer_domain or "", hit.query or ""
        medium, source = (hit.utm("medium") or "").lower(), (hit.utm("source") or "").lower()

        def has(text, needles):
            return any(n in text.lower() for n in needles)

        prefix = "paid" if has(medium, ["cp", "ppc", "retargeting", "paid"]) else "organic"
        if referrer == "" and query == "":
            return "direct"
        if has(
            query,
            [
                "ad_id=",
                "aid=",
                "dclid=",
                "epik=",
                "fbclid=",
                "gclid=",
                "li_fat_id=",
                "msclkid=",
                "ob_click_id=",
                "pc_id=",
                "rdt_cid=",
                "scid=",
                "ttclid=",
                "twclid=",
                "utm_medium=cpc",
                "utm_medium=paid",
                "utm_medium=paid_social",
                "utm_source=google",
            ],
        ):
            return "paidAds"
        if has(medium, ["referral", "app", "link"]):
            return "referral"
        if "affiliate" in medium:
            return "affiliate"
        if "sms" in medium or "sms" in source:
            return "sms"
        if (
            has(
                referrer,
                [
                    "baidu.com",
                    "bing.com",
                    "chatgpt.com",
                    "duckduckgo.com",
                    "ecosia.org",
                    "google.",
                    "msn.com",
                    "perplexity.ai",
                    "search.brave.com",
                    "yandex.",
                ],
            )
            or "organic" in medium
        ):
            return prefix + "Search"
        if has(
            referrer,
            [
                "bsky.app",
                "facebook.com",
                "fb.com",
                "ig.com",
                "instagram.com",
                "linkedin.",
                "news.ycombinator.com",
                "pinterest.",
                "reddit.",
                "snapchat.",
                "t.co",
                "threads.net",
                "tiktok.",
                "twitter.com",
                "x.com",
            ],
        ):
            return prefix + "Social"
        if (
            has(
                referrer,
                ["gmail.", "hotmail.", "mail.yahoo.", "outlook.", "proton.me", "protonmail."],
            )
            or "mail" in medium
        ):
            return "email"
        if (
            has(
                referrer,
                [
                    "alibaba.com",
                    "aliexpress.com",
                    "amazon.",
                    "bestbuy.com",
                    "ebay.com",
                    "etsy.com",
                    "newegg.com",
                    "target.com",
                    "walmart.com",
                ],
            )
            or "shop" in medium
        ):
            return prefix + "Shopping"
        if has(referrer, ["twitch.", "youtube."]) or "video" in medium:
            return prefix + "Video"
        if referrer and not self_referral(hit):
            return "referral"
        return "Unknown"

    def revenue(
        self, start, end, currency, unit, zone, selection: Selection = NONE, prev=None
    ) -> dict:
        paid = self.revenue_events(start, end, currency, selection)
        chart: dict = defaultdict(lambda: [Decimal(0), 0])
        country: dict = defaultdict(Decimal)
        region: dict = defaultdict(Decimal)
        per_session: dict = defaultdict(Decimal)
        for hit in paid:
            key = (hit.name, self.bucket_instant(hit.at, unit, zone))
            chart[key][0] += self.amount(hit)
            chart[key][1] += 1
            country[hit.visitor.country] += self.amount(hit)
            region[(hit.visitor.country, hit.visitor.stored_region)] += self.amount(hit)
            per_session[hit.session] += self.amount(hit)
        firsts: dict = {}
        for hit in self.events(start, end):
            if hit.session in per_session and hit.session not in firsts:
                firsts[hit.session] = hit
        referrer: dict = defaultdict(Decimal)
        channel: dict = defaultdict(Decimal)
        for session, value in per_session.items():
            referrer[firsts[session].referrer_domain] += value
            channel[self.channel(firsts[session])] += value

        def by_value(found: dict, names) -> list[dict]:
            rows = [
                {**dict(zip(names, key if isinstance(key, tuple) else (key,))), "value": float(v)}
                for key, v in found.items()
            ]
            return sorted(rows, key=lambda r: (-r["value"], *(str(r[n]) for n in names)))

        comparison = self.revenue_total(*prev, currency, selection)
        return {
            "chart": [
                {"x": x, "t": t, "y": float(v[0]), "count": v[1]}
                for (x, t), v in sorted(chart.items(), key=lambda kv: (kv[0][1], kv[0][0]))
            ],
            "total": {
                **self.revenue_total(start, end, currency, selection),
                "comparison": comparison,
            },
            "country": by_value(country, ("name",)),
            "region": by_value(region, ("country", "name")),
            "referrer": by_value(referrer, ("name",)),
            "channel": by_value(channel, ("name",)),
        }

    # --- attribution -----------------------------------------------------------------------------

    def attribution(
        self, start, end, model_name: str, step_type: str, step: str, selection: Selection = NONE
    ) -> dict:
        wanted = 1 if step_type == "path" else 2
        conversions = [
            h
            for h in self.events(start, end, selection)
            if h.event_type == wanted and (h.path if step_type == "path" else h.name) == step
        ]
        last_conversion: dict = {}
        for hit in conversions:
            last_conversion[hit.session] = max(hit.at, last_conversion.get(hit.session, hit.at))
        everything = self.events(start, end)
        touches: list[Hit] = []
        for session, converted_at in last_conversion.items():
            own = [h for h in everything if h.session == session]
            candidates = (
                own if model_name == "first-click" else [h for h in own if h.at < converted_at]
            )
            if not candidates:
                continue
            instant = (
                min(h.at for h in candidates)
                if model_name == "first-click"
                else max(h.at for h in candidates)
            )
            touches += [h for h in candidates if h.at == instant]
        lists: dict = {
            name: defaultdict(set)
            for name in (
                "referrer",
                "paidAds",
                "utm_source",
                "utm_medium",
                "utm_campaign",
                "utm_content",
                "utm_term",
            )
        }
        for hit in touches:
            if hit.referrer_domain and not self_referral(hit):
                lists["referrer"][hit.referrer_domain].add(hit.session)
            params = dict(p.split("=", 1) for p in hit.query.split("&") if "=" in p)
            for key, name in (
                ("gclid", "Google Ads"),
                ("fbclid", "Facebook / Meta"),
                ("msclkid", "Microsoft Ads"),
                ("ttclid", "TikTok Ads"),
                ("li_fat_id", "LinkedIn Ads"),
                ("twclid", "Twitter Ads (X)"),
            ):
                if params.get(key):
                    lists["paidAds"][name].add(hit.session)
                    break
            for part in ("source", "medium", "campaign", "content", "term"):
                if hit.utm(part):
                    lists[f"utm_{part}"][hit.utm(part)].add(hit.session)
        result = {
            name: sorted(
                ({"name": k, "value": len(v)} for k, v in found.items()),
                key=lambda r: (-r["value"], r["name"]),
            )[:20]
            for name, found in lists.items()
        }
        result["total"] = {
            "pageviews": len(conversions),
            "visitors": len({h.session for h in conversions}),
            "visits": len({h.visit for h in conversions}),
        }
        return result

    # --- breakdown -------------------------------------------------------------------------------

    def breakdown(self, start, end, fields: list[str], selection: Selection = NONE) -> list[dict]:
        wanted = 2 if "event" in fields else 1
        chosen = [h for h in self.events(start, end, selection) if h.event_type == wanted]
        # The expanded-metrics formulas (docs/query-formulas.md#expanded-metrics), keyed by the
        # tuple of field values.
        rows = self.model.expanded(chosen, lambda h: tuple(h.column(COLUMNS[f]) for f in fields))
        return [
            {
                "views": r["pageviews"],
                **{k: r[k] for k in ("visitors", "visits", "bounces", "totaltime")},
                **dict(zip(fields, key)),
            }
            for key, r in rows.items()
        ]

    # --- UTM -------------------------------------------------------------------------------------

    def utm(self, start, end, selection: Selection = NONE) -> dict:
        result = {}
        for part in ("source", "medium", "campaign", "term", "content"):
            counted: dict = defaultdict(int)
            for hit in self.events(start, end, selection):
                if hit.event_type == 1 and hit.utm(part):
                    counted[hit.utm(part)] += 1
            result[f"utm_{part}"] = sorted(
                ({"utm": k, "views": n} for k, n in counted.items()),
                key=lambda r: (-r["views"], r["utm"]),
            )
        return result


COLUMNS = {
    "path": "url_path",
    "referrer": "referrer_domain",
    "title": "page_title",
    "query": "url_query",
    "os": "os",
    "browser": "browser",
    "device": "device",
    "country": "country",
    "region": "region",
    "city": "city",
    "tag": "tag",
    "hostname": "hostname",
    "distinctId": "distinct_id",
    "language": "language",
    "event": "event_name",
    "utmSource": "utm_source",
    "utmMedium": "utm_medium",
    "utmCampaign": "utm_campaign",
    "utmContent": "utm_content",
    "utmTerm": "utm_term",
}


def percentile(values: list[float], fraction: float) -> float | None:
    """Continuous percentile (linear interpolation between the closest ranks)."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
