"""The reminder SMS's words: per locale, from the data files, money and dates as
each locale writes them, and never opening with the word for "debt"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ivr.messaging.reminder_text import ReminderTextError, load_template, reminder_text
from scheduler.reminders import reminder_due

DAY = dt.date(2026, 9, 30)


def test_pt_br_money_and_date() -> None:
    text = reminder_text("pt-BR", creditor="Loja Azul", amount_cents=105_000, promised_date=DAY)
    assert text == (
        "Loja Azul: lembrete do pagamento de R$ 1.050,00 combinado para 30/09/2026. "
        "Responda SAIR para não receber mais SMS."
    )


def test_en_us_money_date_and_stop() -> None:
    text = reminder_text(
        "en-US", creditor="Blue Store", amount_cents=105_000, promised_date=DAY, currency="USD"
    )
    assert "$1,050.00" in text and "09/30/2026" in text and text.endswith("Reply STOP to opt out.")
    assert text.startswith("Blue Store:")


def test_unknown_locale_falls_back_to_pt_br() -> None:
    text = reminder_text("ko-KR", creditor="Loja", amount_cents=100, promised_date=DAY)
    assert "R$ 1,00" in text and "SAIR" in text


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("DÍVIDA {creditor}: {amount} em {date}.", "must not open"),
        ("Debt of {amount}", "must not open"),
        ("{creditor}: {amount} em {date}, {name}", "unknown field"),
    ],
)
def test_templates_that_break_a_rule_are_refused(tmp_path: Path, template: str, why: str) -> None:
    (tmp_path / "sms").mkdir()
    (tmp_path / "sms" / "pt-BR.reminders.yaml").write_text(f'reminder: "{template}"\n')
    with pytest.raises(ReminderTextError, match=why):
        load_template("pt-BR", tmp_path)


@pytest.mark.parametrize(
    ("today", "made_on", "days_before", "due"),
    [
        (DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=9), 1, False),
        (DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=9), 1, True),
        (DAY, DAY - dt.timedelta(days=9), 1, True),  # missed the day before: the day itself
        (DAY + dt.timedelta(days=1), DAY - dt.timedelta(days=9), 1, False),  # date passed
        (DAY - dt.timedelta(days=3), DAY - dt.timedelta(days=9), 3, True),
        (DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1), 1, False),  # made today
        (DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=9), 0, False),  # reminders off
    ],
)
def test_reminder_due(today: dt.date, made_on: dt.date, days_before: int, due: bool) -> None:
    assert reminder_due(DAY, days_before, today, made_on) is due
