"""A debtor is told to call back a number of their own country, read their way.

Calls run through the live-call session with the shipped flow and prompt
catalogs (fake line and engines, real store): the answering machine of a
Brazilian debtor and of a US debtor each get the voicemail, and what the
voice was asked to say is checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.calls.dialer import claim_manual_attempt
from ivr.config import Settings
from ivr.dialog.flow import Flow
from ivr.store.importer import import_debtors
from ivr.store.models import CallAttempt, Campaign, utcnow
from scheduler.manual import next_legal_instant
from tests.support.calls import Call, FakeLine, prompts_of, voice_stack

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

CSV = (
    "external_ref,name,phone,amount,due_date,creditor,locale,region\n"
    "BR-1,Maria Souza,+5511987654321,10.00,2026-11-01,Loja Estrela,pt-BR,SP\n"
    "US-1,Emily Stone,+12125550148,10.00,2026-11-01,Bright Star Stores,en-US,NY\n"
)
# The calls come from a Brazilian number; the US line is set on its own.
SETTINGS = Settings(twilio_from_number="+551130000000", callback_number_us="+1 (800) 555-0100")
BR_SPOKEN = "um um, três zero zero zero, zero zero zero zero"
US_SPOKEN = "eight zero zero, five five five, zero one zero zero"


@pytest.fixture(scope="module")
def flow() -> Flow:
    return Flow.load()


async def _machine_answered_attempt(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, ref: str
) -> int:
    path = tmp_path / "portfolio.csv"
    if not path.exists():
        path.write_text(CSV, encoding="utf-8")
        report = await import_debtors(sessions, path)
        assert report.errors == []
    at = await next_legal_instant(sessions, ref, utcnow())
    assert at is not None
    attempt_id, _ = await claim_manual_attempt(sessions, ref, now=at)
    async with sessions() as s, s.begin():
        await s.execute(
            update(CallAttempt)
            .where(CallAttempt.id == attempt_id)
            .values(answered_by="machine_end_beep")
        )
    return attempt_id


async def _voicemail(
    sessions: async_sessionmaker[AsyncSession], attempt_id: int, flow: Flow
) -> str:
    call = Call(
        sessions,
        attempt_id,
        voice_stack(flow, None),
        FakeLine(),
        callback_numbers=SETTINGS.callback_numbers(),
    )
    call.begin()
    await call.ended()
    events = await call.events()
    assert prompts_of(events) == ["voicemail"]
    return str(next(e.data["text"] for e in events if e.kind == "prompt"))


async def test_each_debtor_hears_the_number_of_their_own_country(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, flow: Flow
) -> None:
    br = await _machine_answered_attempt(sessions, tmp_path, "BR-1")
    us = await _machine_answered_attempt(sessions, tmp_path, "US-1")

    us_text = await _voicemail(sessions, us, flow)
    assert US_SPOKEN in us_text and "Please call us back" in us_text, us_text
    assert "three zero zero zero" not in us_text, "a US debtor is never given the Brazilian line"

    br_text = await _voicemail(sessions, br, flow)
    assert BR_SPOKEN in br_text and "Por favor" in br_text, br_text
    assert US_SPOKEN not in br_text


async def test_a_campaign_line_of_another_country_is_not_given(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, flow: Flow
) -> None:
    br = await _machine_answered_attempt(sessions, tmp_path, "BR-1")
    us = await _machine_answered_attempt(sessions, tmp_path, "US-1")
    async with sessions() as s, s.begin():
        await s.execute(update(Campaign).values(callback_number="+552140028922"))

    # The campaign's own (Brazilian) line wins for the Brazilian debtor...
    assert "dois um, quatro zero zero dois, oito nove dois dois" in await _voicemail(
        sessions, br, flow
    )
    # ...and is never read to the US debtor, who hears the US line.
    us_text = await _voicemail(sessions, us, flow)
    assert US_SPOKEN in us_text and "four zero zero two" not in us_text
