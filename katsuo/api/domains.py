"""A website's domain as people register it: a host name (`example.com`, `blog.example.co.uk`,
`localhost`, an IP address), optionally with a port (`localhost:3000`, as Umami users register
development sites). No scheme, path, query or spaces: the domain is matched against hosts and
shown as a name, so "https://example.com/" or "not a domain!!" are refused with a 400 naming
the field."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# One label of a host name: letters (any script), digits and inner hyphens, at most 63 characters.
_LABEL = re.compile(r"^(?!-)[^\W_](?:[^\W_]|-){0,62}(?<!-)$")
_PORT = re.compile(r"^[0-9]{1,5}$")
_BRACKETED_IPV6 = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")

HINT = "enter a host name such as example.com or localhost:3000, without http:// or a path"


def _refuse() -> PydanticCustomError:
    return PydanticCustomError("domain", HINT)


def check_domain(value: str | None) -> str | None:
    if value is None or value == "":
        return value
    host, port = value, None
    if value.startswith("["):  # [::1]:8080
        host, _, rest = value.partition("]")
        host += "]"
        if rest:
            if not rest.startswith(":"):
                raise _refuse()
            port = rest[1:]
        if not _BRACKETED_IPV6.match(host):
            raise _refuse()
    else:
        if value.count(":") == 1:
            host, port = value.split(":")
        labels = host.removesuffix(".").split(".")
        if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
            raise _refuse()
    if port is not None and not (_PORT.match(port) and 0 < int(port) < 65536):
        raise _refuse()
    return value


Domain = Annotated[str, AfterValidator(check_domain)]


# The same rule for a form's `pattern` attribute (browsers compile it with the `v` flag), so a
# form refuses what the API would before sending it.
_HTML_LABEL = r"[\p{L}\p{N}](?:[\p{L}\p{N}\-]{0,61}[\p{L}\p{N}])?"
HTML_PATTERN = rf"(?:\[[0-9A-Fa-f:.]+\]|(?:{_HTML_LABEL}\.)*{_HTML_LABEL}\.?)(?::[0-9]{{1,5}})?"
