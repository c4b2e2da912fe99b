"""Short links (`/q/<slug>`): owned by a user or a team."""

from __future__ import annotations

from katsuo.store import schema
from katsuo.store.records import Link
from katsuo.store.repositories.slugged import SluggedEntities

_links = SluggedEntities(schema.link, Link, search_columns=("name", "url", "slug"))

get = _links.get
get_by_slug = _links.get_by_slug
slug_taken = _links.slug_taken
create = _links.create
update = _links.update
delete = _links.delete
list_for_user = _links.list_for_user
list_for_team = _links.list_for_team
