"""The keypad says everything speech can: every intent a question listens for
has a key there, the same key in every question, and pressing keys alone
reaches every ending of the flow a caller can bring about."""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.dialog.events import (
    CallAnswered,
    Digits,
    Listen,
    RecordAlreadyPaid,
    RecordOutcome,
    ScheduleCallback,
    Silence,
)
from tests.unit import test_dialog as base
from tests.unit.test_dialog import TODAY, of

flow = base.flow
catalogs = base.catalogs
make = base.make


def keyed_in(dialog) -> None:
    """Start the call and confirm the right party with the keypad."""
    dialog.start(CallAnswered())
    dialog.handle(Digits("1"))
    assert dialog.state == "ask_payment_date"


@pytest.mark.parametrize("locale", ["pt-BR", "en-US"])
def test_already_paid_by_keypad(make, locale):
    d = make(locale)
    keyed_in(d)
    # 3 may begin a date (30, 31): alone, it answers after a short pause.
    actions = d.handle(Digits("3"))
    assert not of(actions, RecordOutcome)
    assert of(actions, Listen)[-1].timeout_s == d.flow.keypad_pause_s
    actions = d.handle(Silence())
    assert RecordAlreadyPaid() in actions
    assert RecordOutcome("already_paid") in actions
    assert d.finished and d.outcome == "already_paid"


@pytest.mark.parametrize("locale", ["pt-BR", "en-US"])
def test_call_me_later_by_keypad(make, locale):
    d = make(locale)
    keyed_in(d)
    d.handle(Digits("4"))
    assert d.state == "ask_callback_time"
    actions = d.handle(Digits("1"))
    tomorrow = TODAY + dt.timedelta(days=1)
    assert of(actions, ScheduleCallback) == [
        ScheduleCallback(dt.datetime.combine(tomorrow, dt.time(10, 0)))
    ]
    assert d.outcome == "callback"
