"""The client's IP address, from proxy headers only: the socket is never used
(docs/ids.md#client-address-for-collection)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

# First header present wins, in this order.
IP_HEADERS = (
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-nf-client-connection-ip",
    "do-connecting-ip",
    "x-real-ip",
    "x-appengine-user-ip",
    "x-forwarded-for",
    "forwarded",
    "x-client-ip",
    "x-cluster-client-ip",
    "x-forwarded",
)


def client_ip(headers: Mapping[str, str], custom_header: str = "") -> str:
    """The resolved client IP, canonicalised, or '' when no header names one."""
    if custom_header:
        value = headers.get(custom_header)
        if value:
            return normalise(value)
    for name in IP_HEADERS:
        value = headers.get(name)
        if value:
            if name == "x-forwarded-for":
                value = value.split(",")[0]
            elif name == "forwarded":
                value = _forwarded_for(value)
            return normalise(value)
    return ""


def _forwarded_for(value: str) -> str:
    for part in value.replace(",", ";").split(";"):
        key, _, ip = part.strip().partition("=")
        if key.lower() == "for":
            return ip.strip().strip('"')
    return ""


def _plain_ipv4(value: str) -> list[int] | None:
    """The octets of a canonical dotted-quad IPv4 address, else None (then ipaddress decides).
    Most hits carry one, and this is ~10x cheaper than building an ipaddress object."""
    parts = value.split(".")
    if len(parts) != 4:
        return None
    octets = []
    for part in parts:
        if not part.isdigit() or len(part) > 3 or (part[0] == "0" and part != "0"):
            return None
        octets.append(int(part))
    return octets if max(octets) <= 255 else None


@lru_cache(maxsize=65536)
def normalise(value: str) -> str:
    value = value.strip()
    if _plain_ipv4(value) is not None:
        return value
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        host, sep, port = value.rpartition(":")
        if sep and port.isdigit() and host.count(":") == 0:
            return normalise(host)
        return value
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


@lru_cache(maxsize=65536)
def is_ignored(ip: str, networks: tuple) -> bool:
    """Whether IGNORE_IP (single addresses and CIDR ranges, v4 and v6) covers the client IP.
    An IP that does not parse is not covered (Umami fails with a 500 there)."""
    if not networks or not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address.version == network.version and address in network for network in networks)


_LOCAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "127.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
        "fe80::/10",
    )
)


@lru_cache(maxsize=65536)
def is_local(ip: str) -> bool:
    """No geo for these (docs/collection.md#geo-location): empty, ::, ::1, private and link-local
    ranges."""
    if not ip:
        return True
    octets = _plain_ipv4(ip)
    if octets is not None:
        a, b, c = octets[0], octets[1], octets[2]
        return (
            a in (10, 127)
            or octets == [0, 0, 0, 0]
            or (a == 172 and 16 <= b <= 31)
            or (a == 192 and b == 168)
            or (a == 169 and b == 254 and 1 <= c <= 254)
        )
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if address.is_unspecified or address.is_loopback:
        return True
    if isinstance(address, ipaddress.IPv4Address) and ipaddress.IPv4Address(
        "169.254.1.0"
    ) <= address <= ipaddress.IPv4Address("169.254.254.255"):
        return True
    return any(address.version == network.version and address in network for network in _LOCAL)
