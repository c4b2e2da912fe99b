"""Tracking pixels (`/p/<slug>`): owned by a user or a team."""

from __future__ import annotations

from katsuo.store import schema
from katsuo.store.records import Pixel
from katsuo.store.repositories.slugged import SluggedEntities

_pixels = SluggedEntities(schema.pixel, Pixel, search_columns=("name", "slug"))

get = _pixels.get
get_by_slug = _pixels.get_by_slug
slug_taken = _pixels.slug_taken
create = _pixels.create
update = _pixels.update
delete = _pixels.delete
list_for_user = _pixels.list_for_user
list_for_team = _pixels.list_for_team
