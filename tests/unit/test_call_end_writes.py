"""A call that ends while the store is slow keeps every write it was making.

The caller hangs up while a write of the call waits for the store (another
writer holds SQLite's write lock, as an import would). What was only speech
or waiting may be cut once the call has ended; what the caller said and the
call was recording may not: it lands once the store is free again, and if
it cannot within a generous limit the failure is logged and counted.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from ivr.calls import call_end
from ivr.dialog.flow import Flow
from ivr.store.models import Debtor, OptOut
from tests.support.calls import Call, FakeLine, store_held, voice_stack

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

DIALOG_WAIT_S = 0.3  # what is only speech or waiting, once the call has ended
HELD_S = 1.5  # how long the store stays busy after the hang-up


async def _opt_out_then_hang_up_while_the_store_is_busy(
    sessions: async_sessionmaker[AsyncSession], db_url: str, attempt_id: int, held_s: float
) -> Call:
    """The caller confirms who they are (the person is marked verified: a
    write that now waits for the store), keys "stop calling me" (9) while that
    write waits, and hangs up; the store stays busy ``held_s`` longer."""
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(Flow.load(), None), line)
    await call.__aenter__()
    async with store_held(db_url):
        line.digits("1")  # yes, it is me
        listener = call.session.listener
        await call.until(
            lambda: listener.listen is not None and listener.listen.grammar == "ask_payment_date"
        )
        line.digits("9")  # stop calling me
        line.hang_up()
        await asyncio.sleep(held_s)
    return call


async def _opted_out(sessions: async_sessionmaker[AsyncSession]) -> tuple[bool, int]:
    async with sessions() as s:
        debtor = await s.scalar(select(Debtor).where(Debtor.external_ref == "S-1"))
        assert debtor is not None
        rows = await s.scalar(select(func.count()).select_from(OptOut))
        return debtor.opted_out_at is not None, rows or 0


async def test_an_opt_out_said_before_hanging_up_lands_once_the_store_is_free(
    sessions, db_url: str, attempt_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(call_end, "DIALOG_END_WAIT_S", DIALOG_WAIT_S)
    call = await _opt_out_then_hang_up_while_the_store_is_busy(sessions, db_url, attempt_id, HELD_S)
    await call.ended()
    assert await _opted_out(sessions) == (True, 1), "the person asked not to be called"
    logged = [(e.kind, e.data) for e in await call.events()]
    assert (
        "dtmf",
        {"state": "ask_payment_date", "digits": "9", "intent": "stop_calling"},
    ) in logged
    assert logged[-1] == ("end", {"reason": "opt_out"}), logged
    assert (await call.attempt()).outcome == "opt_out"
    assert call.live.store_write_failures == 0


async def test_a_write_the_store_holds_past_the_limit_is_logged_and_counted(
    sessions, db_url: str, attempt_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(call_end, "DIALOG_END_WAIT_S", DIALOG_WAIT_S)
    monkeypatch.setattr(call_end, "WRITES_END_LIMIT_S", 0.6)
    with capture_logs() as logs:
        call = await _opt_out_then_hang_up_while_the_store_is_busy(
            sessions, db_url, attempt_id, HELD_S
        )
        await call.ended()
    unfinished = [e for e in logs if e["event"] == "call.store_write_unfinished"]
    assert len(unfinished) == 1 and unfinished[0]["log_level"] == "error", logs
    assert call.live.store_write_failures == 1
