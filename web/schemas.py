"""Request bodies: what each endpoint accepts, checked strictly (wrong types and unknown fields are refused)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from db.repository import normalise_email
from web.errors import ApiError

Level = Literal["entry", "mid", "senior"]
Kind = Literal["technical", "behavioral", "mixed"]


def check_text(value: str) -> str:
    """One line of text as people type it: no control characters (NUL, tabs, line breaks; PostgreSQL refuses
    NUL, SQLite would store it) and no lone surrogates (they cannot be stored as UTF-8)."""
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise ValueError("must not contain control characters")
    return value


#: A single-line text field.
Text = Annotated[str, AfterValidator(check_text)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class SignupBody(Body):
    email: Text = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)
    full_name: Text = Field(min_length=1, max_length=100)
    target_role: Text = Field(min_length=1, max_length=100)
    experience_level: Level

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)


class LoginBody(Body):
    email: Text = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class ProfilePatch(Body):
    full_name: Text | None = Field(None, min_length=1, max_length=100)
    target_role: Text | None = Field(None, min_length=1, max_length=100)
    experience_level: Level | None = None


class CreateInterviewBody(Body):
    role: Text = Field(min_length=1, max_length=100)
    interview_type: Kind
    duration_minutes: int = Field(ge=1, le=60)


def check_email(value: str) -> str:
    """A plausible email address, normalised as it is stored (``db.repository.normalise_email``: look-alike
    spellings fold into one); whitespace inside it, a no-break space included, is refused."""
    email = normalise_email(check_text(value))
    local, _, domain = email.partition("@")
    if (
        not local
        or "." not in domain
        or any(char.isspace() for char in email)
        or domain.startswith(".")
        or domain.endswith(".")
    ):
        raise ValueError("must be an email address")
    return email


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], data: dict[str, Any]) -> M:
    """Validate a JSON object; a 400 naming the first problem otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "body"
        kind = error["type"]
        if kind == "missing":
            message = f"'{field}' is required."
        elif kind == "extra_forbidden":
            message = f"'{field}' is not a field of this request."
        elif kind == "literal_error":
            allowed = error.get("ctx", {}).get("expected", "")
            message = f"'{field}' must be one of {allowed}."
        else:
            message = f"'{field}': {error['msg']}."
        raise ApiError(400, "invalid_field", message) from exc
