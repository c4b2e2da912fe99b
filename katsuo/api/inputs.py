"""What every request input must satisfy before it reaches a repository: text that both engines
can store (no NUL character, no lone surrogate), finite numbers and bounded nesting in free-form
JSON. Bodies derive from `Body`; query and path text use `SafeText`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, field_validator

from katsuo.checks import storable

SafeText = Annotated[str, AfterValidator(storable)]


class Body(BaseModel):
    """A JSON request body. Unknown keys are ignored, as Umami's validation strips them."""

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)
