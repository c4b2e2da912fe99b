"""The client address that security decisions (login throttling) rely on.

Any caller can send X-Forwarded-For, X-Real-IP or True-Client-IP, so a forwarding header names
the client only when the operator says which one to believe:

- `CLIENT_IP_HEADER` set: that header, which the proxy in front must set (replacing whatever the
  client sent); the socket peer when it is missing or not an address;
- `KATSUO_TRUSTED_PROXIES` set and the socket peer is one of those proxies: `X-Forwarded-For`
  read from the right, skipping the trusted proxies, so the first address that is not one of them
  is the client (entries further left are the client's own claims); without that header,
  `X-Real-IP`;
- otherwise the socket peer.

`katsuo serve` lets uvicorn replace the socket peer from `X-Forwarded-For` only for the same
trusted proxies, so both read the chain the same way.

Collection does not use this: /api/send follows Umami and reads the usual headers from anyone
(collect/ip.py), because session ids must come out as Umami computes them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from starlette.requests import Request

from katsuo.collect.ip import normalise
from katsuo.config import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(value: str | None) -> Address | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(normalise(value))
    except ValueError:
        return None


def _trusted(address: Address, proxies: tuple) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def resolve(headers: Mapping[str, str], peer: str, settings: Settings) -> str:
    """The client address for a request from `peer` carrying `headers` (lower-case names)."""
    if settings.client_ip_header:
        return str(_address(headers.get(settings.client_ip_header)) or _address(peer) or peer)
    current = _address(peer)
    if (
        current is None
        or not settings.trusted_proxies
        or not _trusted(current, settings.trusted_proxies)
    ):
        return str(current) if current is not None else peer
    chain = [hop.strip() for hop in headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    if not chain:
        return str(_address(headers.get("x-real-ip")) or current)
    for hop in reversed(chain):
        if not _trusted(current, settings.trusted_proxies):
            break
        forwarded = _address(hop)
        if forwarded is None:
            break
        current = forwarded
    return str(current)


def client_address(request: Request, settings: Settings) -> str:
    headers = dict(request.headers.items())
    # A proxy may add its own X-Forwarded-For line below the client's: read them as one chain.
    headers["x-forwarded-for"] = ", ".join(request.headers.getlist("x-forwarded-for"))
    return resolve(headers, request.client.host if request.client else "", settings)
