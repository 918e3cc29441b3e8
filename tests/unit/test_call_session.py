"""The live call's logic with a fake carrier socket and a fake recognizer.

The speech engines are replaced through their interfaces
(:mod:`ivr.voice.interfaces`): the recognizer "hears" scripted results for
given audio chunks and the synthesizer returns silence. The dialog, prompt
catalog, grammars and the store (a real migrated SQLite database) are the
service's own, so each test shows what a caller and the store would see.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from aiohttp import WSMsgType
from sqlalchemy import select

from ivr.calls.session import APOLOGY_PROMPT
from ivr.calls.voice import grammar_root
from ivr.dialog.flow import DEFAULT_FLOW, Flow, parse_yaml
from ivr.dialog.grammars import load_grammar
from ivr.store.models import Debt, Debtor, NumberOptOut, OptOut, PaymentPlan, Promise, utcnow
from ivr.telephony import media_codec as mc
from ivr.voice.interfaces import AsrEvent
from tests.support.calls import (
    Call,
    FakeLine,
    FakeTransfers,
    ScriptedRecognizer,
    prompts_of,
    store_held,
    voice_stack,
)

# One SQLite store per test is enough here: the queries have their own tests on both backends.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

SHORT_WAIT_S = 0.3  # every listening timeout of the quick flow


@pytest.fixture(scope="module")
def quick_flow() -> Flow:
    """The shipped flow, with listening windows short enough for a unit test."""
    text = DEFAULT_FLOW.read_text(encoding="utf-8")
    for seconds in (6, 8, 10):
        text = text.replace(f"timeout_s: {seconds},", f"timeout_s: {SHORT_WAIT_S},")
    assert f"timeout_s: {SHORT_WAIT_S}, max_digits: 1" in text, "the greeting waits briefly"
    return Flow.from_mapping(parse_yaml(text))


@pytest.fixture(scope="module")
def flow() -> Flow:
    """The shipped flow: its listening windows (6 s and more) never expire in these tests."""
    return Flow.load()


# ---------------------------------------------------------------- tests


async def test_silence_reasks_in_other_words_only_once_the_prompt_has_played(
    sessions, attempt_id: int, quick_flow: Flow
) -> None:
    line = FakeLine(plays_instantly=False)
    voice = voice_stack(quick_flow, None)
    call = Call(sessions, attempt_id, voice, line)
    call.begin()
    await call.until(lambda: len(line.pending_marks) == 1)
    # The greeting is still playing: however long the caller is quiet, no re-ask.
    await asyncio.sleep(SHORT_WAIT_S * 3)
    assert len(line.marks()) == 1
    line.play_all()
    await call.until(lambda: len(line.marks()) == 2)
    line.play_all()
    await call.listening()
    async with call:
        pass
    events = await call.events()
    assert prompts_of(events)[:2] == ["greet", "greet"]
    greet, again = [e.data["text"] for e in events if e.kind == "prompt"][:2]
    assert greet != again, "a re-ask uses different words"
    kinds = [e.kind for e in events]
    assert kinds.index("silence") < [i for i, k in enumerate(kinds) if k == "prompt"][1]


async def test_speech_barges_into_a_prompt_that_allows_it_and_keys_do_not_cut_one_that_does_not(
    sessions, attempt_id: int, flow: Flow
) -> None:
    partial, answer = b"\x10" * 160, b"\x20" * 160
    recognizer = ScriptedRecognizer(
        {partial: AsrEvent("si", 0.0, False), answer: AsrEvent("sim", 0.9, True)}
    )
    line = FakeLine(plays_instantly=False)
    call = Call(sessions, attempt_id, voice_stack(flow, recognizer), line)
    call.begin()
    await call.until(lambda: len(line.pending_marks) == 1)  # the greeting is playing
    line.audio(partial)
    await call.until(lambda: line.clears() == 1)
    assert len(line.marks()) == 1 and not line.pending_marks, "clear returned the mark"
    line.audio(answer)
    # Right party: the recording notice (which may not be interrupted) plays next.
    await call.until(lambda: len(line.pending_marks) >= 1)
    line.digits("1")  # begins a date: no answer yet
    await asyncio.sleep(0.2)
    assert line.clears() == 1, "a key must not cut the notice"
    line.plays_instantly = True
    line.play_all()
    await call.listening()
    ask_date = load_grammar("pt-BR", "ask_payment_date", grammar_root())
    assert recognizer.grammars[-1] == ask_date, "the next question's grammar is listened for"
    async with call:
        pass
    events = await call.events()
    speech = [e.data for e in events if e.kind == "speech"]
    assert speech and speech[0]["intent"] == "yes"
    assert prompts_of(events)[:2] == ["greet", "notice_first"]
    assert recognizer.closed


@pytest.mark.parametrize("handed_over", [False, True])
async def test_transfer_falls_back_to_a_goodbye_when_no_agent_takes_the_call(
    sessions, attempt_id: int, flow: Flow, handed_over: bool
) -> None:
    line = FakeLine()
    transfers = FakeTransfers(handed_over)
    call = Call(sessions, attempt_id, voice_stack(flow, None), line, transfers)
    async with call:
        line.digits("0")  # "0": an agent, please
        if handed_over:
            await call.until_logged("transfer")
            assert not line.closed, "the agents have the call now"
        else:
            await call.ended()
            assert line.closed
    assert transfers.requests == [
        {
            "attempt_id": attempt_id,
            "call_sid": line.call_sid,
            "reason": "asked_for_agent",
            "locale": "pt-BR",
        }
    ]
    events = await call.events()
    transfer = [e.data for e in events if e.kind == "transfer"]
    assert transfer == [{"reason": "asked_for_agent", "handed_over": handed_over}]
    ends = [e.data["reason"] for e in events if e.kind == "end"]
    assert ends == ([] if handed_over else ["transfer_unavailable"])
    assert (await call.attempt()).outcome == "agent"


@pytest.mark.parametrize(
    ("kind", "data"),
    [(WSMsgType.TEXT, '{"event": "media", "sequenceNumber": 99}'), (WSMsgType.BINARY, b"\x00")],
)
async def test_a_malformed_message_ends_the_call_with_an_apology(
    sessions, attempt_id: int, flow: Flow, kind: WSMsgType, data: Any
) -> None:
    line = FakeLine()
    voice = voice_stack(flow, None)
    call = Call(sessions, attempt_id, voice, line)
    async with call:
        line.send_raw(kind, data)
        await call.ended()
    assert line.closed
    assert line.marks()[-1] == APOLOGY_PROMPT, "the last words are the apology"
    apology = voice.catalogs["pt-BR"].render(APOLOGY_PROMPT, {})
    assert voice.synthesizer.texts[-1] == apology  # type: ignore[attr-defined]
    try:
        mc.parse_inbound(data) if kind == WSMsgType.TEXT else None
        expected = (31950, "binary frame")
    except mc.MalformedMessage as exc:
        expected = (exc.code, exc.reason)
    errors = [e.data for e in await call.events() if e.kind == "stream_error"]
    assert errors == [{"code": expected[0], "reason": expected[1]}]
    assert call.live.store_write_failures == 0 and len(call.live) == 0


async def test_turn_log_is_written_in_the_order_things_happened(
    sessions, attempt_id: int, flow: Flow
) -> None:
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, None), line)
    async with call:
        line.digits("1")  # it is me
        await call.until(lambda: len(line.marks()) >= 4)
        await call.listening()
    events = await call.events()
    kinds = [(e.kind, e.data.get("prompt_id") or e.data.get("outcome")) for e in events]
    assert kinds[:7] == [
        ("stream_start", None),
        ("prompt", "greet"),
        ("dtmf", None),
        ("outcome", "right_party"),
        ("prompt", "notice_first"),
        ("prompt", "reason"),
        ("prompt", "ask_payment_date"),
    ]
    assert kinds[-1] == ("hangup", None)
    # The prompts in the log are those the caller heard, in the same order.
    played = [e for e in events if e.kind == "prompt"]
    assert len(played) == len(line.marks())
    assert [e.id for e in events] == sorted(e.id for e in events)


async def test_keys_of_a_half_typed_entry_keep_the_question_and_its_grammar(
    sessions, attempt_id: int, flow: Flow
) -> None:
    recognizer = ScriptedRecognizer({})
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, recognizer), line)
    async with call:
        line.digits("1")
        listener = call.session.listener
        await call.until(
            lambda: bool(listener.listen) and listener.listen.grammar == "ask_payment_date"
        )
        grammars = len(recognizer.grammars)
        day_month = f"{(utcnow() + dt.timedelta(days=3)).date():%d%m}"
        for key in day_month[:3]:
            line.digits(key)
            await call.until(lambda: listener.listen is not None and listener.listen.entry_pending)
        assert listener.listen is not None and listener.listen.timeout_s == flow.keypad_pause_s
        assert len(recognizer.grammars) == grammars, "no new grammar while keys are typed"
        line.digits(day_month[3])
        line.digits("#")
        dialog = call.session.dialog
        await call.until(lambda: dialog is not None and dialog.state == "confirm_promise")


async def test_a_promise_read_back_starts_without_waiting_for_the_store_and_ends_after_the_commit(
    sessions, db_url: str, attempt_id: int, flow: Flow
) -> None:
    """DESIGN: a promise is committed before the read-back ends. Its first
    frame goes out while the store is still busy, and the call ends only once
    the promise lasts."""
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, None), line)
    promised = (utcnow() + dt.timedelta(days=3)).date()
    async with call:
        line.digits("1")
        await call.listening()
        line.digits(f"{promised:%d%m}#")
        await call.until(
            lambda: (
                call.session.dialog is not None and (call.session.dialog.state == "confirm_promise")
            )
        )
        await call.listening()
        line.plays_instantly = False  # the read-back plays until the test says so
        sent_before = len(line.sent)
        async with store_held(db_url) as store:
            line.digits("1")  # yes, that is right
            await call.until(
                lambda: any(isinstance(m, mc.OutMedia) for m in line.sent[sent_before:])
            )
            promises = store.execute(
                "SELECT count(*) FROM promises WHERE attempt_id = ?", (attempt_id,)
            ).fetchone()
            assert promises == (0,), "the read-back began while the store was busy"
        async with asyncio.timeout(5):
            while True:
                async with sessions() as s:
                    stored = list(
                        await s.scalars(select(Promise).where(Promise.attempt_id == attempt_id))
                    )
                if stored:
                    break
                await asyncio.sleep(0.02)
        assert line.pending_marks and not call.task.done(), "committed while the read-back plays"
        line.play_all()
        await call.ended()
    events = await call.events()
    assert prompts_of(events)[-1] == "promise_thanks"
    assert (await call.attempt()).outcome == "promise"


async def test_a_split_is_stored_as_one_plan_of_dated_instalments(
    sessions, attempt_id: int, flow: Flow
) -> None:
    said = b"\x30" * 160
    recognizer = ScriptedRecognizer(
        {said: AsrEvent("metade hoje e metade daqui a uma semana", 0.9, True)}
    )
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, recognizer), line)
    async with call:
        line.digits("1")
        await call.listening()
        line.audio(said)
        await call.until(
            lambda: call.session.dialog is not None and call.session.dialog.state == "confirm_split"
        )
        await call.listening()
        line.digits("1")  # yes, both parts
        await call.ended()
    async with sessions() as s:
        rows = list(await s.scalars(select(Promise).where(Promise.attempt_id == attempt_id)))
        debt = await s.scalar(select(Debt).where(Debt.id == rows[0].debt_id))
    assert debt is not None
    assert len(rows) == 2
    first, second = sorted(rows, key=lambda p: p.promised_date)
    assert first.promised_date < second.promised_date
    # One plan from the call, the parts its instalments 1 and 2.
    assert first.plan_id is not None and first.plan_id == second.plan_id
    assert (first.sequence, second.sequence) == (1, 2)
    async with sessions() as s:
        plan = await s.get(PaymentPlan, first.plan_id)
    assert plan is not None and plan.source == "ivr" and plan.attempt_id == attempt_id
    assert first.amount_cents + second.amount_cents == debt.amount_cents
    assert prompts_of(await call.events())[-1] == "split_thanks"
    assert (await call.attempt()).outcome == "promise"


async def test_the_offered_instalments_are_stored_as_one_plan(
    sessions, attempt_id: int, flow: Flow
) -> None:
    """ "N parcelas de X", accepted by keypad, is one plan of N instalments that
    sums to the debt, not a single promise of the first instalment."""
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, None), line)
    first_day = (utcnow() + dt.timedelta(days=3)).date()

    def state_is(name: str) -> bool:
        return call.session.dialog is not None and call.session.dialog.state == name

    async with call:
        line.digits("1")
        await call.listening()
        line.digits("5")  # instalments
        await call.until(lambda: state_is("offer_installments"))
        await call.listening()
        line.digits("1")  # yes, split it
        await call.until(lambda: state_is("ask_installment_date"))
        await call.listening()
        line.digits(f"{first_day:%d%m}#")
        await call.until(lambda: state_is("confirm_installments"))
        await call.listening()
        line.digits("1")  # yes
        await call.ended()
    async with sessions() as s:
        rows = list(await s.scalars(select(Promise).where(Promise.attempt_id == attempt_id)))
        debt = await s.scalar(select(Debt).where(Debt.id == rows[0].debt_id))
    assert debt is not None
    rows.sort(key=lambda p: p.promised_date)
    assert len(rows) == call.session.dialog.ctx.installments >= 2
    assert len({p.plan_id for p in rows}) == 1 and rows[0].plan_id is not None
    assert [p.sequence for p in rows] == list(range(1, len(rows) + 1))
    assert sum(p.amount_cents for p in rows) == debt.amount_cents
    assert rows[0].promised_date >= first_day
    assert prompts_of(await call.events())[-1] == "installments_thanks"
    assert (await call.attempt()).outcome == "promise"


@pytest.mark.parametrize("verified_first", [False, True])
async def test_an_opt_out_is_committed_before_the_confirmation_ends(
    sessions, attempt_id: int, flow: Flow, verified_first: bool
) -> None:
    """Before the person is verified the number is opted out; after, the person."""
    stop = b"\x30" * 160
    recognizer = ScriptedRecognizer({stop: AsrEvent("não me ligue mais", 0.9, True)})
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, recognizer), line)

    async def opted_out() -> tuple[bool, int, int]:
        async with sessions() as s:
            debtor = await s.scalar(select(Debtor).where(Debtor.external_ref == "S-1"))
            assert debtor is not None
            rows = list(await s.scalars(select(OptOut).where(OptOut.debtor_id == debtor.id)))
            numbers = list(await s.scalars(select(NumberOptOut)))
            return debtor.opted_out_at is not None, len(rows), len(numbers)

    expected = (True, 1, 0) if verified_first else (False, 0, 1)
    async with call:
        if verified_first:
            line.digits("1")  # yes, it is me (the campaign's policy: the name)
            await call.listening()
        line.plays_instantly = False  # the confirmation plays until the test says so
        if verified_first:
            line.audio(stop)  # "não me ligue mais"
        else:
            line.digits("9")  # stop calling (this number)
        dialog = call.session.dialog
        await call.until(lambda: dialog is not None and dialog.state == "opt_out")
        await call.until(lambda: bool(line.pending_marks))
        async with asyncio.timeout(5):
            while await opted_out() != expected:  # noqa: ASYNC110 - what the store holds
                await asyncio.sleep(0.02)
        assert line.pending_marks and call.task is not None and not call.task.done()
        line.play_all()
        await call.ended()
    assert prompts_of(await call.events())[-1] == "opt_out_confirm"
