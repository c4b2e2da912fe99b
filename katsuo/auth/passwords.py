"""bcrypt password hashes, compatible with the `$2a$`/`$2b$` hashes bcryptjs writes for Umami."""

from __future__ import annotations

from functools import lru_cache

import bcrypt

COST = 10  # Umami's cost factor

# The password of the account a new installation seeds (docs: "admin" / "umami").
DEFAULT_PASSWORD = "umami"
# The reference server asks for 8 characters; the docs' own examples of POST /api/users and
# POST /api/users/:id set "umami", and the docs win: 5 lets a user set the documented default.
MIN_LENGTH = len(DEFAULT_PASSWORD)
MAX_LENGTH = 255


def _secret(password: str) -> bytes:
    # bcrypt only reads 72 bytes; bcryptjs silently truncates, the Python binding refuses longer input.
    return password.encode("utf-8")[:72]


def hash_password(password: str) -> str:
    return bcrypt.hashpw(_secret(password), bcrypt.gensalt(COST)).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(_secret(password), hashed.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False


@lru_cache(maxsize=256)
def is_default(hashed: str) -> bool:
    """Whether this hash is of the seeded default password. Cached by hash: a page asks on every
    view, and a new password is a new hash."""
    return verify_password(DEFAULT_PASSWORD, hashed)
