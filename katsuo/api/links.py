"""Links and pixels (docs: API › Links, API › Pixels): short links redirecting through
`/q/<slug>` and tracking pixels served at `/p/<slug>`, owned by a user or a team. The two APIs
differ only in the link's target URL, so one set of routes serves both."""

from types import ModuleType
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter
from pydantic import AfterValidator, Field

from katsuo import removals
from katsuo.api.auth import Ok
from katsuo.api.deps import AnyActor, AppServices, Conn, PagingParams, UserActor, found
from katsuo.api.inputs import Body
from katsuo.auth.permissions import authorize
from katsuo.collect.urls import is_web_url
from katsuo.errors import BadRequest
from katsuo.store.database import after_commit
from katsuo.store.records import Link, Page, Pixel
from katsuo.store.repositories import entities, links, pixels, teams

# The docs ask for at least 8 characters on update; Katsuo asks it on create too, and keeps the
# characters that would end a URL path out of slugs, since such a slug could never be reached.
Slug = Annotated[str, Field(min_length=8, max_length=100, pattern=r"^[^/?#\s]+$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]


def _web_url(url: str) -> str:
    # /q/<slug> redirects anyone who clicks to this URL: never to javascript:, data: or the like.
    if not is_web_url(url):
        raise ValueError("must be an absolute http:// or https:// URL")
    return url


TargetUrl = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_web_url)]


class CreatePixelBody(Body):
    id: UUID | None = None
    name: Name
    slug: Slug
    team_id: UUID | None = Field(default=None, alias="teamId")


class CreateLinkBody(CreatePixelBody):
    url: TargetUrl


class UpdatePixelBody(Body):
    name: Name | None = None
    slug: Slug | None = None


class UpdateLinkBody(UpdatePixelBody):
    url: TargetUrl | None = None


def _routes(
    kind: str, repository: ModuleType, record: type, create_body: type, update_body: type
) -> APIRouter:
    router = APIRouter(prefix=f"/api/{kind}s", tags=[f"{kind}s"])
    not_found = f"{kind.capitalize()} not found"

    def load(conn, entity_id: UUID):
        return found(repository.get(conn, entity_id), not_found)

    @router.get("", name=f"list_{kind}s")
    def list_entities(actor: UserActor, conn: Conn, paging: PagingParams) -> Page[record]:
        return repository.list_for_user(
            conn, actor.user.id, search=paging.search, page=paging.page, page_size=paging.page_size
        )

    @router.post("", name=f"create_{kind}")
    def create_entity(body: create_body, actor: UserActor, conn: Conn, svc: AppServices) -> record:
        team = None
        if body.team_id is not None:
            team = found(teams.get(conn, body.team_id), "Team not found.", code="team-not-found")
        authorize(actor, "create", (kind, team))
        if body.id is not None and entities.id_taken(conn, body.id):
            raise BadRequest(entities.ID_TAKEN)
        if repository.slug_taken(conn, body.slug):
            raise BadRequest("That slug is already taken.")
        values = body.model_dump(exclude={"id", "team_id"})
        after_commit(conn, svc.slugs.clear)  # a slug asked for before it existed was a 404
        return repository.create(
            conn,
            entity_id=body.id,
            **values,
            user_id=None if team else actor.user.id,
            team_id=team.id if team else None,
        )

    @router.get("/{entity_id}", name=f"get_{kind}")
    def get_entity(entity_id: UUID, actor: AnyActor, conn: Conn) -> record:
        entity = load(conn, entity_id)
        authorize(actor, "view", (kind, entity))
        return entity

    @router.post("/{entity_id}", name=f"update_{kind}")
    def update_entity(
        entity_id: UUID, body: update_body, actor: UserActor, conn: Conn, svc: AppServices
    ) -> record:
        entity = load(conn, entity_id)
        authorize(actor, "update", (kind, entity))
        changes = body.model_dump(exclude_none=True)
        if "slug" in changes and repository.slug_taken(conn, changes["slug"], except_id=entity.id):
            raise BadRequest("That slug is already taken.")
        after_commit(conn, svc.slugs.clear)
        return repository.update(conn, entity.id, **changes)

    @router.delete("/{entity_id}", name=f"delete_{kind}")
    def delete_entity(entity_id: UUID, actor: UserActor, conn: Conn, svc: AppServices) -> Ok:
        entity = load(conn, entity_id)
        authorize(actor, "delete", (kind, entity))
        removals.delete_slugged(conn, svc, repository, entity.id)
        return Ok()

    return router


links_router = _routes("link", links, Link, CreateLinkBody, UpdateLinkBody)
pixels_router = _routes("pixel", pixels, Pixel, CreatePixelBody, UpdatePixelBody)
