"""The audit log: record a change in the caller's transaction, and read the log back.

Call :func:`record_audit` in the SAME transaction as the change it
describes, so a change that rolls back leaves no entry and an entry never
describes a change that did not happen::

    before = audit_fields(campaign, ("daily_cap", "active"))
    campaign.daily_cap = 3
    await record_audit(s, user, AuditEntity.CAMPAIGN, campaign.id, AuditAction.UPDATE,
                       before, audit_fields(campaign, ("daily_cap", "active")))

``before`` and ``after`` are plain mappings of field -> value; only fields
whose value differs are kept, as ``{field: [before, after]}`` (a create has
no ``before``, a delete no ``after``). Values are made JSON-safe (dates as
ISO text, decimals as text, enums as their value). Secrets never enter the
log: fields named like a password, hash, token or key are dropped whatever
the caller passes, so a password reset is an action without values.
Phone numbers enter it masked (:func:`audit_number`), as log lines have them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.logs import mask_phone
from ivr.store.models import AuditEntry, User, utcnow
from ivr.vocab.audit import AuditAction, AuditEntity

SECRET_WORDS = ("password", "hash", "token", "api_key", "secret")
"""A field whose name holds one of these is never written to the log."""

_ALWAYS_RECORDED = frozenset(AuditAction) - {AuditAction.UPDATE, AuditAction.REPLACE}
"""Actions worth an entry even when no field changed (an update that changed
nothing is not)."""


def is_secret(field: str) -> bool:
    name = field.lower()
    return any(word in name for word in SECRET_WORDS)


def audit_number(e164: str) -> str:
    """A phone number as the audit log keeps it: ``+55*******4321``.

    Masked the way log lines mask numbers (:func:`ivr.logs.mask_phone`):
    enough to tell entries apart and to match a number one has in hand, not
    to dial it, and nothing that outlives a person's anonymisation.
    """
    return mask_phone(e164)


def json_safe(value: Any) -> Any:
    """A value as the JSON column can keep it and a person can read it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value))
    if hasattr(value, "model_dump"):
        return json_safe(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((json_safe(v) for v in value), key=repr)
    if isinstance(value, Iterable):
        return [json_safe(v) for v in value]
    return str(value)


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every field that differs; secrets left out."""
    old = {k: json_safe(v) for k, v in (before or {}).items() if not is_secret(k)}
    new = {k: json_safe(v) for k, v in (after or {}).items() if not is_secret(k)}
    out: dict[str, list[Any]] = {}
    for key in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(key), new.get(key)
        if a != b:
            out[key] = [a, b]
    return out


def audit_fields(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """A snapshot of some attributes of ``obj``, taken before and after a change."""
    return {f: json_safe(getattr(obj, f)) for f in fields}


async def record_audit(
    session: AsyncSession,
    actor: User | None,
    entity: AuditEntity | str,
    entity_id: int | str,
    action: AuditAction | str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
) -> AuditEntry | None:
    """Add the entry for one change to the caller's transaction.

    ``actor`` None means the service itself. An update whose fields did not
    change writes nothing (None is returned); any other action is always written.
    """
    action = AuditAction(action)
    changes = diff(before, after)
    if not changes and action not in _ALWAYS_RECORDED:
        return None
    entry = AuditEntry(
        at=now or utcnow(),
        user_id=actor.id if actor is not None else None,
        username=actor.username if actor is not None else None,
        entity=AuditEntity(entity),
        entity_id=str(entity_id)[:80],
        action=action,
        changes=changes,
    )
    session.add(entry)
    return entry


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    """What the console filters the log on; None: any."""

    entity: AuditEntity | None = None
    entity_id: str | None = None
    username: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _filtered(stmt: Select[Any], f: AuditFilter) -> Select[Any]:
    if f.entity is not None:
        stmt = stmt.where(AuditEntry.entity == f.entity)
    if f.entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == f.entity_id)
    if f.username is not None:
        stmt = stmt.where(AuditEntry.username == f.username)
    if f.since is not None:
        stmt = stmt.where(AuditEntry.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEntry.at < f.until)
    return stmt


async def audit_page(
    session: AsyncSession, f: AuditFilter, *, limit: int, offset: int = 0
) -> tuple[Sequence[AuditEntry], int]:
    """One page of matching entries, newest first, and how many match in all."""
    total = await session.scalar(_filtered(select(func.count(AuditEntry.id)), f))
    rows = (
        await session.scalars(
            _filtered(select(AuditEntry), f)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return rows, int(total or 0)
