"""Skipping the per-row foreign-key triggers, for a bulk writer that holds its keys itself.

A foreign key on PostgreSQL is a trigger per row: a query that finds the
referenced row and locks it FOR KEY SHARE. The import's merge and the
planner's claim write thousands of rows whose keys they already hold (rows
they inserted or locked in the same transaction), or can lock a whole batch
of at once; for them the triggers were a third to a half of the statement's
time. Such a writer sets ``session_replication_role`` to ``replica`` for its
own transaction (:data:`UNCHECKED`), which skips the triggers, where the
database user may set it: a superuser, as the compose file's is, or a role
granted it. Elsewhere the triggers run as always.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

SKIP = True  # where the database lets us (tests turn it off to run the other way)
UNCHECKED = "session_replication_role = replica"
CHECKED = "session_replication_role = origin"
_MAY = "SELECT has_parameter_privilege('session_replication_role', 'SET')"
# Per engine (its sync core): may its connections set it? Asked once.
_may: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


async def may_skip(db: AsyncConnection | AsyncSession) -> bool:
    """Whether ``db``'s transactions may skip the triggers: :data:`SKIP` and
    the user's privilege (read once per engine, with a query that cannot fail
    the transaction it runs in)."""
    if not SKIP:
        return False
    engine = db.get_bind() if isinstance(db, AsyncSession) else db.sync_engine
    known = _may.get(engine)
    if known is None:
        known = _may[engine] = bool(await db.scalar(text(_MAY)))
    return known
