"""Websites: their owner (a user or a team), share slug, reset and deletion of collected data."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from pydantic import model_validator

from katsuo.store import ids, schema, umami
from katsuo.store.records import Page, UserRef, Website
from katsuo.store.repositories import collected, shares, teams
from katsuo.store.repositories.common import columns, now, one, paginate, search_any

t = schema.website
_live = t.c.deleted_at.is_(None)

# The legacy `shareId` field: the slug of the newest share of the website
# (docs/schema.md#the-websites-shareid).
_share_slug = (
    sa.select(schema.share.c.slug)
    .where(schema.share.c.entity_id == t.c.website_id)
    .order_by(schema.share.c.created_at.desc())
    .limit(1)
    .scalar_subquery()
    .label("share_id")
)
_retention = schema.website_retention
_retention_days = (
    sa.select(_retention.c.days)
    .where(_retention.c.website_id == t.c.website_id)
    .scalar_subquery()
    .label("retention_days")
)
_select = sa.select(
    *columns(t, exclude=["replay_enabled", "replay_config"]), _share_slug, _retention_days
)
# Umami 3.0 kept the share slug on the website row itself (Umami 3.1 moved it to `share`).
_select_umami_30 = sa.select(
    *columns(t, exclude=["replay_enabled", "replay_config"]),
    sa.literal_column('"website".share_id', sa.String).label("share_id"),
    _retention_days,
)


def _selected(conn: sa.Connection) -> sa.Select:
    return _select if umami.level(conn).has(umami.SHARES) else _select_umami_30


class WebsiteWithUser(Website):
    """A row of a website list: the website and its owning user's id and name."""

    user: UserRef | None = None

    @model_validator(mode="before")
    @classmethod
    def _owner(cls, values):
        if isinstance(values, dict) and values.get("user_id") and "user_username" in values:
            values = {
                **values,
                "user": {"id": values["user_id"], "username": values["user_username"]},
            }
        return values


class TeamWebsite(Website):
    """A row of a team's website list: the website and the user who created it."""

    create_user: UserRef | None = None

    @model_validator(mode="before")
    @classmethod
    def _creator(cls, values):
        if isinstance(values, dict) and "creator_username" in values:
            name = values.get("creator_username")
            creator = {"id": values["created_by"], "username": name} if name is not None else None
            values = {**values, "create_user": creator}
        return values


class AdminWebsite(WebsiteWithUser):
    """A row of the admin website list: also the owning team with its owners."""

    team: teams.TeamWithMembers | None = None


def get(conn: sa.Connection, website_id: UUID) -> Website | None:
    return one(conn, _selected(conn).where(t.c.website_id == website_id, _live), Website)


def _listing(conn: sa.Connection, where: sa.ColumnElement, search: str | None) -> sa.Select:
    u = schema.user
    stmt = (
        _selected(conn)
        .add_columns(u.c.username.label("user_username"))
        .outerjoin(u, u.c.user_id == t.c.user_id)
        .where(where, _live)
        .order_by(t.c.name, t.c.website_id)
    )
    if (clause := search_any(search, t.c.name, t.c.domain)) is not None:
        stmt = stmt.where(clause)
    return stmt


def list_for_user(
    conn: sa.Connection,
    user_id: UUID,
    *,
    include_teams: bool,
    search: str | None,
    page: int,
    page_size: int,
) -> Page:
    """A user's personal websites, plus (includeTeams) those of teams the user owns
    (docs/permissions.md#lists-paging-order-and-search)."""
    where = t.c.user_id == user_id
    if include_teams:
        owned_teams = sa.select(schema.team_user.c.team_id).where(
            schema.team_user.c.user_id == user_id, schema.team_user.c.role == "team-owner"
        )
        where = sa.or_(where, t.c.team_id.in_(owned_teams))
    return paginate(conn, _listing(conn, where, search), WebsiteWithUser, page, page_size)


def list_for_team(
    conn: sa.Connection, team_id: UUID, *, search: str | None, page: int, page_size: int
) -> Page:
    u = schema.user
    stmt = (
        _selected(conn)
        .add_columns(u.c.username.label("creator_username"))
        .outerjoin(u, u.c.user_id == t.c.created_by)
        .where(t.c.team_id == team_id, _live)
        .order_by(t.c.name, t.c.website_id)
    )
    if (clause := search_any(search, t.c.name, t.c.domain)) is not None:
        stmt = stmt.where(clause)
    return paginate(conn, stmt, TeamWebsite, page, page_size)


def list_all(conn: sa.Connection, *, search: str | None, page: int, page_size: int) -> Page:
    """Every live website, newest first, with its owning user or team (GET /api/admin/websites)."""
    stmt = (
        _listing(conn, sa.true(), search)
        .order_by(None)
        .order_by(t.c.created_at.desc(), t.c.website_id)
    )
    result = paginate(conn, stmt, AdminWebsite, page, page_size, order_by="createdAt")
    owners = teams.with_owners(conn, {w.team_id for w in result.data if w.team_id})
    for website in result.data:
        website.team = owners.get(website.team_id)
    return result


def create(
    conn: sa.Connection,
    *,
    name: str,
    domain: str | None,
    created_by: UUID,
    user_id: UUID | None,
    team_id: UUID | None,
    website_id: UUID | None = None,
) -> Website:
    website_id = website_id or ids.new_id()
    conn.execute(
        t.insert().values(
            website_id=website_id,
            name=name,
            domain=domain,
            user_id=user_id,
            team_id=team_id,
            created_by=created_by,
            created_at=(created := now()),
            updated_at=created,
        )
    )
    return get(conn, website_id)


def update(conn: sa.Connection, website_id: UUID, **values) -> Website | None:
    if values:
        conn.execute(
            t.update().where(t.c.website_id == website_id).values(**values, updated_at=now())
        )
    return get(conn, website_id)


def set_retention(conn: sa.Connection, website_id: UUID, days: int | None) -> None:
    """Keep the website's collected data `days` days (None: as KATSUO_RETENTION_DAYS says)."""
    conn.execute(_retention.delete().where(_retention.c.website_id == website_id))
    if days is not None:
        conn.execute(_retention.insert().values(website_id=website_id, days=days))


def reset(conn: sa.Connection, website_id: UUID) -> None:
    """Delete the collected data, keep the website, its reports, segments and shares. With the
    events in ClickHouse, `collected.purge` deletes them there once this committed; the new
    `reset_at` keeps them out of every read until then."""
    reset_at = now()
    collected.reset(conn, website_id, reset_at)
    update(conn, website_id, reset_at=reset_at)


def delete(conn: sa.Connection, website_id: UUID) -> None:
    """Delete the website with its collected data (in ClickHouse once this committed: see
    `collected`), reports, segments and shares; its id is never used again."""
    collected.delete(conn, website_id, "website")
    if umami.level(conn).has(umami.REPLAYS):
        saved = schema.session_replay_saved
        conn.execute(saved.delete().where(saved.c.website_id == website_id))
    conn.execute(schema.report.delete().where(schema.report.c.website_id == website_id))
    conn.execute(schema.segment.delete().where(schema.segment.c.website_id == website_id))
    shares.delete_for_entity(conn, website_id)
    conn.execute(_retention.delete().where(_retention.c.website_id == website_id))
    conn.execute(t.delete().where(t.c.website_id == website_id))


def transfer(
    conn: sa.Connection, website_id: UUID, *, user_id: UUID | None, team_id: UUID | None
) -> Website | None:
    return update(conn, website_id, user_id=user_id, team_id=team_id)


def is_live(conn: sa.Connection, website_id: UUID | str) -> bool:
    """Whether hits may be collected for the id: the website exists and is not deleted."""
    stmt = sa.select(t.c.website_id).where(t.c.website_id == website_id, _live)
    return conn.execute(stmt).first() is not None
