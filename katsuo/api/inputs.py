"""What every request input must satisfy before it reaches a repository: text that both engines
can store (no NUL character, no lone surrogate), finite numbers and bounded nesting in free-form
JSON. Bodies derive from `Body`; query and path text use `SafeText`."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, field_validator

MAX_DEPTH = 32  # nesting of free-form JSON such as report parameters


def storable(value: Any, depth: int = 0) -> Any:
    """The value unchanged, or a ValueError saying why no engine could store it."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text") from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    elif isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise ValueError(f"must not be nested more than {MAX_DEPTH} levels deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            storable(key, depth + 1)
            storable(item, depth + 1)
    return value


SafeText = Annotated[str, AfterValidator(storable)]


class Body(BaseModel):
    """A JSON request body. Unknown keys are ignored, as Umami's validation strips them."""

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)
