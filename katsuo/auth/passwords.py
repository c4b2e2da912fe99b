"""bcrypt password hashes, compatible with the `$2a$`/`$2b$` hashes bcryptjs writes for Umami."""

from __future__ import annotations

import bcrypt

COST = 10  # Umami's cost factor


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
