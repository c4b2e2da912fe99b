"""Health and public configuration: /api/heartbeat and /api/config."""

from __future__ import annotations

from fastapi import APIRouter

from katsuo import __version__
from katsuo.api.deps import AppServices
from katsuo.store.records import Record

router = APIRouter(prefix="/api", tags=["system"])


class Heartbeat(Record):
    ok: bool = True


class PublicConfig(Record):
    cloud_mode: bool
    favicon_url: str | None
    links_url: str | None
    pixels_url: str | None
    private_mode: bool
    telemetry_disabled: bool
    tracker_script_name: str | None
    updates_disabled: bool
    current_version: str


@router.get("/heartbeat")
def heartbeat() -> Heartbeat:
    return Heartbeat()


@router.get("/config")
def config(svc: AppServices) -> PublicConfig:
    s = svc.settings
    return PublicConfig(
        cloud_mode=False,
        favicon_url=None if s.private_mode else s.favicon_url,
        links_url=s.links_url or None,
        pixels_url=s.pixels_url or None,
        private_mode=s.private_mode,
        telemetry_disabled=s.disable_telemetry or s.private_mode,
        tracker_script_name=",".join(n.lstrip("/") for n in s.tracker_script_names) or None,
        updates_disabled=s.disable_updates,
        current_version=__version__,
    )
