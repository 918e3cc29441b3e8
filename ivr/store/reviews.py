"""Cases a supervisor must look at, and the reports that open them.

Today one kind: someone who answered said the debtor has died. Contact stops
at once, before any review (the status alone makes the scheduler's rule book
refuse the person, and the dialer re-checks it before placing a call); the
review list says who reported it (the call and the number) and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import CallAttempt, Debtor, DebtorReview, DebtorStatus, ReviewKind, utcnow
from ivr.store.queries import add_event, cancel_pending_callbacks

REVIEW_PAGE = 200


async def record_deceased(session: AsyncSession, attempt: CallAttempt) -> DebtorReview:
    """The person called was reported dead on this call: stop every contact and
    open a review (one per debtor while it is open)."""
    debtor = await session.get(Debtor, attempt.debtor_id, with_for_update=True)
    assert debtor is not None
    debtor.status = DebtorStatus.DECEASED_REVIEW
    await cancel_pending_callbacks(session, debtor.id)
    review = await session.scalar(
        select(DebtorReview).where(
            DebtorReview.debtor_id == debtor.id,
            DebtorReview.kind == ReviewKind.DECEASED,
            DebtorReview.resolved_at.is_(None),
        )
    )
    if review is None:
        review = DebtorReview(
            debtor_id=debtor.id,
            kind=ReviewKind.DECEASED,
            attempt_id=attempt.id,
            e164=attempt.to_number,
            reported_at=utcnow(),
        )
        session.add(review)
    await add_event(session, attempt.id, "deceased_reported", {"e164": attempt.to_number})
    return review


@dataclass(frozen=True)
class ReviewItem:
    """One open review with the debtor it is about."""

    review: DebtorReview
    external_ref: str
    name: str
    status: DebtorStatus


async def open_reviews(session: AsyncSession, limit: int = REVIEW_PAGE) -> Sequence[ReviewItem]:
    """Open reviews, oldest report first (the longest waiting comes first)."""
    rows = await session.execute(
        select(DebtorReview, Debtor.external_ref, Debtor.name, Debtor.status)
        .join(Debtor, Debtor.id == DebtorReview.debtor_id)
        .where(DebtorReview.resolved_at.is_(None))
        .order_by(DebtorReview.reported_at, DebtorReview.id)
        .limit(limit)
    )
    return [ReviewItem(r, ref, name, status) for r, ref, name, status in rows.all()]
