"""Who may sign in: users with a role, their browser sessions, failed-login throttles."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.models.base import Base, string_enum, utcnow
from ivr.vocab.locales import Locale
from ivr.vocab.staff import Role


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[Role] = mapped_column(string_enum(Role))
    api_key_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    # The pages' language (console, desktop); None: the browser's.
    locale: Mapped[Locale | None] = mapped_column(string_enum(Locale, length=10))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column()
    """Set: the user may not sign in (password or API key) and an agent takes no calls."""


class AuthSession(Base):
    """A signed-in browser: the cookie's hash, revoked at logout, expiring here too.

    The cookie alone (signed, with its own expiry) would stay valid after
    logout; this row is what makes logout and expiry hold on every replica.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class LoginThrottle(Base):
    """Failed logins per account (``user:<name>``) or address (``addr:<ip>``).

    Kept in the database so a lockout holds across replicas and restarts.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column()
    locked_until: Mapped[dt.datetime | None] = mapped_column()
