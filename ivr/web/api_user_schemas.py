"""Request and response models of the users and audit endpoints (the rules of ``api_schemas``).

No model here has a field for a password hash, an API key hash or a session
token: what the users API returns cannot leak one, whatever a handler does.
A password appears only in an answer that generated it, once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, field_validator

from ivr.agents.schemas import ENDPOINT_RE, Skill
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.vocab.locales import LOCALES, Locale
from ivr.vocab.staff import Presence, Role
from ivr.web.api_schemas import Input, Output, check_locale
from ivr.web.api_types import Instant
from ivr.web.credentials import MIN_PASSWORD_LEN

_PASSWORD = Field(
    default=None,
    min_length=MIN_PASSWORD_LEN,
    max_length=1024,
    description="omitted: a one-time password is generated and shown once",
)


def _languages(value: Any) -> Any:
    for item in value if isinstance(value, list) else []:
        check_locale(item)
    return value


def _endpoint(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not ENDPOINT_RE.match(value):
        raise ValueError("must be client:NAME, sip:URI or an E.164 number")
    return value


class UserCreate(Input):
    """A supervisor, or an agent (who is created with their languages and skills)."""

    username: str = Field(min_length=1, max_length=80)
    role: Role
    password: str | None = _PASSWORD
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    endpoint: str | None = Field(default=None, max_length=200, description="default client:NAME")
    languages: list[Locale] | None = Field(default=None, min_length=1, max_length=len(LOCALES))
    skills: list[Skill] = Field(default_factory=list, max_length=20)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        if any(c.isspace() or not c.isprintable() for c in value):
            raise ValueError("must not contain spaces or control characters")
        return value

    _check_languages = field_validator("languages", mode="before")(_languages)
    _check_endpoint = field_validator("endpoint")(_endpoint)


class UserUpdate(Input):
    """An agent's languages, skills, name shown and phone; only the fields sent change."""

    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    endpoint: str | None = Field(default=None, max_length=200)
    languages: list[Locale] | None = Field(default=None, min_length=1, max_length=len(LOCALES))
    skills: list[Skill] | None = Field(default=None, max_length=20)

    _check_languages = field_validator("languages", mode="before")(_languages)
    _check_endpoint = field_validator("endpoint")(_endpoint)


class PasswordReset(Input):
    password: str | None = _PASSWORD


class AgentPart(Output):
    id: int
    display_name: str
    endpoint: str
    languages: list[str]
    skills: list[str]
    presence: Presence


class UserAdminOut(Output):
    id: int
    username: str
    role: Role
    disabled: bool
    disabled_at: dt.datetime | None
    created_at: dt.datetime
    agent: AgentPart | None = Field(description="the agent this user is (agents only)")


class UserList(Output):
    items: list[UserAdminOut]


class UserCreated(Output):
    user: UserAdminOut
    api_key: str = Field(description="shown once: only its hash is kept")
    password: str | None = Field(description="the generated one-time password, shown once")


class PasswordResetOut(Output):
    password: str | None = Field(description="the generated one-time password, shown once")
    sessions_revoked: int


class AuditQuery(Input):
    entity: AuditEntity | None = None
    entity_id: str | None = Field(default=None, min_length=1, max_length=80)
    user: str | None = Field(default=None, min_length=1, max_length=80, description="username")
    from_: Instant | None = Field(default=None, alias="from")
    to: Instant | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10_000_000)


class AuditOut(Output):
    id: int
    at: dt.datetime
    user_id: int | None
    username: str | None
    entity: AuditEntity
    entity_id: str
    action: AuditAction
    changes: dict[str, list[Any]] = Field(description="{field: [before, after]}")


class AuditPage(Output):
    items: list[AuditOut]
    total: int
    limit: int
    offset: int
