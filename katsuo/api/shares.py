"""Shares (docs/shares.md): public read-only links to a website's, link's or pixel's dashboard under
`/share/<slug>`. Resolving a slug hands out a share token that opens just that entity, and of it
just the sections the share publishes (api/share_scope.py), for a day."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import Field

from katsuo.api.auth import Ok
from katsuo.api.deps import AnyActor, AppServices, Conn, PagingParams, UserActor, found, load_entity
from katsuo.api.inputs import Body, SafeText
from katsuo.auth import share_tokens
from katsuo.auth.permissions import authorize
from katsuo.errors import BadRequest, NotFound
from katsuo.store.records import Page, Share
from katsuo.store.repositories import entities, shares

router = APIRouter(tags=["shares"])

Name = Annotated[str, Field(min_length=1, max_length=200)]
Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^/?#\s]+$")]
SLUG_TAKEN = "That slug is already taken."
NOT_FOUND = "Share not found"


class CreateShareBody(Body):
    entity_id: UUID = Field(alias="entityId")
    share_type: int = Field(alias="shareType")
    name: Name
    slug: Slug | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class UpdateShareBody(Body):
    name: Name
    slug: Slug
    parameters: dict[str, Any]


class EntityShareBody(Body):
    name: Name
    parameters: dict[str, Any] = Field(default_factory=dict)


def _entity_of(conn, share: Share):
    """The entity a share publishes as a policy target, or 404 once the entity is gone."""
    return found(entities.find(conn, share.entity_id), NOT_FOUND)


@router.get("/api/share/{slug}")
def resolve_share(
    slug: Annotated[SafeText, Path(max_length=100)], conn: Conn, svc: AppServices
) -> dict[str, Any]:
    """Public: the share and a token granting view access to its entity. Unlike Umami's, the token
    expires after a day (the share page then resolves the slug again)."""
    share = found(shares.get_by_slug(conn, slug), NOT_FOUND)
    kind, entity = found(entities.of_share(conn, share), NOT_FOUND)
    grant: dict[str, Any] = {
        "shareId": str(share.id),
        "shareType": share.share_type,
        "parameters": share.parameters,
    }
    # Link and pixel analytics are served by the website routes, so their shares name the entity
    # as `websiteId` too (docs/shares.md#the-token).
    grant["websiteId"] = str(entity.id)
    if kind != "website":
        grant[f"{kind}Id"] = str(entity.id)
    return {**grant, "token": share_tokens.issue(grant, svc.settings.secret)}


@router.post("/api/share")
def create_share(body: CreateShareBody, actor: UserActor, conn: Conn) -> Share:
    kind, entity = found(entities.find(conn, body.entity_id), "Entity not found")
    authorize(actor, "update", (kind, entity))
    if entities.SHARE_TYPES[kind] != body.share_type:
        raise BadRequest(f"shareType: {body.share_type} does not match the entity, a {kind}")
    if body.slug and shares.slug_taken(conn, body.slug):
        raise BadRequest(SLUG_TAKEN)
    return shares.create(
        conn,
        entity_id=entity.id,
        share_type=body.share_type,
        name=body.name,
        slug=body.slug,
        parameters=body.parameters,
    )


@router.get("/api/share/id/{share_id}")
def get_share(share_id: UUID, actor: UserActor, conn: Conn) -> Share:
    share = found(shares.get(conn, share_id), NOT_FOUND)
    authorize(actor, "view", _entity_of(conn, share))
    return share


@router.post("/api/share/id/{share_id}")
def update_share(share_id: UUID, body: UpdateShareBody, actor: UserActor, conn: Conn) -> Share:
    share = found(shares.get(conn, share_id), NOT_FOUND)
    authorize(actor, "update", _entity_of(conn, share))
    if shares.slug_taken(conn, body.slug, except_id=share.id):
        raise BadRequest(SLUG_TAKEN)
    return shares.update(conn, share.id, name=body.name, slug=body.slug, parameters=body.parameters)


@router.delete("/api/share/id/{share_id}")
def delete_share(share_id: UUID, actor: UserActor, conn: Conn) -> Ok:
    share = found(shares.get(conn, share_id), NOT_FOUND)
    authorize(actor, "delete", _entity_of(conn, share))
    shares.delete(conn, share.id)
    return Ok()


def _entity_routes(kind: str) -> None:
    """GET and POST /api/<kind>s/:id/shares. The website routes also take link and pixel ids, as
    every website route does; the link and pixel routes take only their own kind."""

    def load(conn, entity_id: UUID):
        found_kind, entity = load_entity(conn, entity_id)
        if kind != "website" and found_kind != kind:
            raise NotFound(f"{kind.capitalize()} not found")
        return found_kind, entity

    @router.get(f"/api/{kind}s/{{entity_id}}/shares", name=f"list_{kind}_shares")
    def list_entity_shares(
        entity_id: UUID, actor: AnyActor, conn: Conn, paging: PagingParams
    ) -> Page[Share]:
        found_kind, entity = load(conn, entity_id)
        authorize(actor, "view", (found_kind, entity))
        return shares.list_for_entity(conn, entity.id, page=paging.page, page_size=paging.page_size)

    @router.post(f"/api/{kind}s/{{entity_id}}/shares", name=f"create_{kind}_share")
    def create_entity_share(
        entity_id: UUID, body: EntityShareBody, actor: UserActor, conn: Conn
    ) -> Share:
        found_kind, entity = load(conn, entity_id)
        authorize(actor, "update", (found_kind, entity))
        return shares.create(
            conn,
            entity_id=entity.id,
            share_type=entities.SHARE_TYPES[found_kind],
            name=body.name,
            parameters=body.parameters,
        )


for _kind in ("website", "link", "pixel"):
    _entity_routes(_kind)
