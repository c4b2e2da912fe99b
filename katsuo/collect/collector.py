"""The collect pipeline of `/api/send`, `/api/batch`, `/q/<slug>` and `/p/<slug>`
(docs/collection.md#the-pipeline):
validate → cache token → website check → client info → bot / IGNORE_IP → ids → rows → writer.

`Collector.send(body, headers)` is the whole of `/api/send` without HTTP: it returns the status
and the JSON body, and has returned only after the hit's rows were durable (writer.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from katsuo.collect import bots, eventdata, identity, urls, useragent
from katsuo.collect.cachetoken import CacheTokens
from katsuo.collect.geo import GeoLocator
from katsuo.collect.ip import client_ip, is_ignored
from katsuo.collect.payload import Hit, Problems, validate
from katsuo.collect.rows import (
    Batch,
    EventDataRow,
    EventRow,
    RevenueRow,
    SessionDataRow,
    SessionRow,
)
from katsuo.collect.websites import WebsiteCache
from katsuo.collect.writer import Writer
from katsuo.config import Settings
from katsuo.errors import ApiError, BadRequest, Forbidden

PAGE_VIEW, CUSTOM_EVENT, LINK_EVENT, PIXEL_EVENT, PERFORMANCE = 1, 2, 3, 4, 5
BOT_RESPONSE = {"beep": "boop"}


@dataclass(slots=True)
class Prepared:
    """A hit that passed every check: its rows, and the response to give once they are stored."""

    batch: Batch
    response: dict


class Collector:
    def __init__(self, settings: Settings, writer: Writer, websites: WebsiteCache, geo: GeoLocator):
        self.settings = settings
        self.writer = writer
        self.websites = websites
        self.geo = geo
        self.secret = settings.secret
        self.tokens = CacheTokens(settings.secret)
        # The rule sets and the geo database load now, not while the first hits wait (~0.3 s).
        useragent.load()
        bots.load()
        geo.load()
        self._new_id = identity.random_id
        if settings.use_uuidv7:
            from katsuo.store import ids

            self._new_id = lambda: str(ids.new_id())

    def forget_websites(self, website_ids) -> None:
        """Call once the deletion or reset of websites, links or pixels committed
        (katsuo/removals.py): their ids leave the cache, and visitors whose session rows were
        removed get them written again."""
        for website_id in website_ids:
            self.websites.forget(str(website_id))
        self.writer.forget_sessions()

    def forget_everything(self) -> None:
        """Empty the in-process caches, e.g. after the whole database was emptied (tests)."""
        self.websites.clear()
        self.writer.forget_sessions()

    async def send(self, body: Any, headers: Mapping[str, str]) -> tuple[int, dict]:
        """One `/api/send` body → (status, JSON body)."""
        try:
            prepared = await self.prepare(body, headers)
        except ApiError as error:
            return error.status, error.body()
        if prepared.batch:
            await self.writer.write(prepared.batch)
        return 200, prepared.response

    async def send_many(self, items: Any, headers: Mapping[str, str]) -> tuple[int, dict]:
        """`/api/batch`: every item through the `/api/send` logic with the batch's headers; the
        rows of all accepted items are committed together (each still fails on its own)."""
        if not isinstance(items, list):
            problems = Problems()
            problems.add((), "Invalid input: expected array")
            error = problems.error()
            return error.status, error.body()
        details, accepted, cache = [], [], None
        for index, item in enumerate(items):
            try:
                prepared = await self.prepare(item, headers)
            except ApiError as error:
                details.append({"index": index, "response": error.body()})
                continue
            accepted.append((index, prepared))
        results = await asyncio.gather(
            *(self.writer.write(prepared.batch) for _, prepared in accepted if prepared.batch),
            return_exceptions=True,
        )
        stored = iter(results)
        for index, prepared in accepted:
            error = next(stored) if prepared.batch else None
            if isinstance(error, BaseException):
                details.append({"index": index, "response": ApiError().body()})
            elif cache is None and "cache" in prepared.response:
                cache = prepared.response["cache"]
        details.sort(key=lambda detail: detail["index"])
        body = {
            "size": len(items),
            "processed": len(items) - len(details),
            "errors": len(details),
            "details": details,
        }
        if cache is not None:
            body["cache"] = cache
        return 200, body

    async def prepare(self, body: Any, headers: Mapping[str, str]) -> Prepared:
        """Validate and enrich a hit into rows; raises ApiError with the response for rejects.
        A bot yields an empty batch and the beep-boop body."""
        hit = validate(body)
        settings = self.settings
        claims = None
        if hit.website:
            token = headers.get("x-umami-cache")
            if token:
                claims = self.tokens.verify(token)
        if not (claims and claims.get("websiteId")):
            # Only a live website, link or pixel of the kind the hit names takes hits.
            kind = "website" if hit.website else "link" if hit.link else "pixel"
            live = self.websites.cached(hit.source_id, kind)
            if live is None:
                live = await asyncio.to_thread(self.websites.lookup, hit.source_id, kind)
            if not live:
                raise BadRequest(f"{kind.capitalize()} not found.")

        user_agent = hit.userAgent or headers.get("user-agent", "")
        if not user_agent.strip():
            # The docs: "you need to send a proper User-Agent HTTP header or your request won't
            # be registered".
            raise BadRequest("Bad request: a User-Agent header (or payload.userAgent) is required")
        ip = hit.ip or client_ip(headers, settings.client_ip_header)
        if not settings.disable_bot_check and bots.is_bot(user_agent):
            return Prepared(Batch(), BOT_RESPONSE)
        if is_ignored(ip, settings.ignore_ip):
            raise Forbidden()

        now = time.time()
        moment = datetime.fromtimestamp(hit.timestamp or now, UTC)
        source = hit.source_id
        session_id = identity.session_id(
            self.secret,
            source,
            distinct_id=hit.id,
            ip=ip,
            user_agent=user_agent,
            moment=moment,
            rotation=settings.salt_rotation,
        )
        batch = Batch()
        # A visitor without a cache token whose session row is stored already (the first
        # write wins) needs no new one: no User-Agent parsing or geo lookup for it.
        if not (claims and claims.get("sessionId")) and not self.writer.stores_session(session_id):
            batch.sessions.append(
                self._session_row(hit, session_id, user_agent, ip, headers, moment)
            )

        visit_id = claims.get("visitId") if claims else None
        issued = claims.get("iat") if claims else None
        if not visit_id or not isinstance(issued, (int, float)):
            visit_id, issued = identity.visit_id(self.secret, session_id, moment), int(now)
        if not hit.timestamp and now - issued > identity.VISIT_WINDOW:
            visit_id, issued = identity.visit_id(self.secret, session_id, moment), int(now)

        if hit.type == "event":
            self._event_rows(batch, hit, session_id, visit_id, moment)
        elif hit.type == "identify":
            self._identify_rows(batch, hit, session_id, moment)
        else:
            self._performance_row(batch, hit, session_id, visit_id, moment)

        claims_out: dict[str, Any] = {
            "sessionId": session_id,
            "visitId": visit_id,
            "iat": int(issued),
        }
        if hit.website:
            claims_out = {"websiteId": hit.website, **claims_out}
        return Prepared(
            batch,
            {"cache": self.tokens.sign(claims_out), "sessionId": session_id, "visitId": visit_id},
        )

    def _session_row(
        self,
        hit: Hit,
        session_id: str,
        user_agent: str,
        ip: str,
        headers: Mapping[str, str],
        moment: datetime,
    ) -> SessionRow:
        browser, os_, device_type = useragent.describe(user_agent)
        place = self.geo.locate(ip, headers, ip_from_payload=bool(hit.ip))
        return SessionRow(
            session_id=session_id,
            website_id=hit.source_id,
            browser=hit.browser if hit.browser is not None else browser,
            os=hit.os if hit.os is not None else os_,
            device=hit.device
            if hit.device is not None
            else useragent.device(device_type, hit.screen),
            screen=hit.screen,
            language=hit.language,
            country=place.country,
            region=place.region,
            city=place.city,
            distinct_id=hit.id or None,
            created_at=moment,
        )

    def _event_rows(
        self, batch: Batch, hit: Hit, session_id: str, visit_id: str, moment: datetime
    ) -> None:
        location = urls.resolve(hit.url, hit.hostname)
        referrer = urls.referrer(hit.referrer, hit.hostname)
        campaign = urls.campaign(location)
        if hit.link:
            event_type = LINK_EVENT
        elif hit.pixel:
            event_type = PIXEL_EVENT
        else:
            event_type = CUSTOM_EVENT if hit.name else PAGE_VIEW
        event_id = self._new_id()
        source = hit.source_id
        name = hit.name or None
        batch.events.append(
            EventRow(
                event_id=event_id,
                website_id=source,
                session_id=session_id,
                visit_id=visit_id,
                created_at=moment,
                url_path=urls.page_path(
                    location, remove_trailing_slash=self.settings.remove_trailing_slash
                ),
                url_query=urls.truncate(location.query, urls.URL_LENGTH),
                referrer_path=referrer.path,
                referrer_query=referrer.query,
                referrer_domain=referrer.domain,
                page_title=urls.title(hit.title),
                event_type=event_type,
                event_name=name,
                tag=hit.tag,
                hostname=hit.hostname or urls.site_hostname(location)[:100],
                lcp=None,
                inp=None,
                fcp=None,
                ttfb=None,
                cls=None,
                **campaign,
            )
        )
        if hit.data:
            for value in eventdata.flatten(hit.data):
                batch.event_data.append(
                    EventDataRow(
                        self._new_id(),
                        source,
                        event_id,
                        value.key,
                        value.string_value,
                        value.number_value,
                        value.date_value,
                        value.data_type,
                        moment,
                    )
                )
            amount = eventdata.revenue(hit.data)
            # Umami's revenue row needs an event name (NOT NULL): a page view carrying revenue
            # data gets none.
            if amount is not None and name:
                batch.revenue.append(
                    RevenueRow(
                        self._new_id(),
                        source,
                        session_id,
                        event_id,
                        name,
                        amount[1],
                        amount[0],
                        moment,
                    )
                )

    def _identify_rows(self, batch: Batch, hit: Hit, session_id: str, moment: datetime) -> None:
        if not hit.data:
            return
        for value in eventdata.flatten(hit.data):
            batch.session_data.append(
                SessionDataRow(
                    self._new_id(),
                    hit.source_id,
                    session_id,
                    value.key,
                    value.string_value,
                    value.number_value,
                    value.date_value,
                    value.data_type,
                    hit.id or None,
                    moment,
                )
            )

    def _performance_row(
        self, batch: Batch, hit: Hit, session_id: str, visit_id: str, moment: datetime
    ) -> None:
        location = urls.resolve(hit.url, hit.hostname)
        path = "" if location.path == "/undefined" else location.path
        metrics = hit.metrics
        batch.events.append(
            EventRow(
                event_id=self._new_id(),
                website_id=hit.source_id,
                session_id=session_id,
                visit_id=visit_id,
                created_at=moment,
                url_path=urls.truncate(path, urls.URL_LENGTH),
                url_query=None,
                utm_source=None,
                utm_medium=None,
                utm_campaign=None,
                utm_content=None,
                utm_term=None,
                referrer_path=None,
                referrer_query=None,
                referrer_domain=None,
                page_title=urls.title(hit.title),
                gclid=None,
                fbclid=None,
                msclkid=None,
                ttclid=None,
                li_fat_id=None,
                twclid=None,
                event_type=PERFORMANCE,
                event_name=None,
                tag=None,
                hostname=None,
                lcp=metrics.get("lcp"),
                inp=metrics.get("inp"),
                fcp=metrics.get("fcp"),
                ttfb=metrics.get("ttfb"),
                cls=metrics.get("cls"),
            )
        )
