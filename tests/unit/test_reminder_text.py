"""The reminder SMS's words: per locale, from the locale's sms.yaml, money and dates
as each locale writes them, how to stop, and never opening with the word for "debt"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ivr.messaging.segments import count_segments
from ivr.messaging.sms_texts import SmsTextError, SmsTexts, reminder_message
from scheduler.reminders import reminder_due

DAY = dt.date(2026, 9, 30)
SOURCE = (Path("prompts") / "pt-BR" / "sms.yaml").read_text(encoding="utf-8")


def test_pt_br_money_date_and_how_to_stop() -> None:
    text = reminder_message(
        "pt-BR", creditor=" Loja Azul ", amount_cents=105_000, currency="BRL", pay_by=DAY
    )
    assert text == (
        "Loja Azul: lembrete do pagamento de R$ 1.050,00 combinado para 30/09/2026. "
        "Responda SAIR para nao receber mais SMS."
    )
    # Plain GSM characters: one part. With "não" it would be UCS-2, two parts.
    cost = count_segments(text)
    assert (cost.encoding, cost.segments) == ("GSM-7", 1)
    assert count_segments(text.replace("nao", "não")).segments == 2


def test_en_us_money_date_collector_and_stop() -> None:
    text = reminder_message(
        "en-US", creditor="Bright Star", amount_cents=5_050, currency="USD", pay_by=DAY
    )
    assert text.startswith("Bright Star: ") and "$50.50" in text and "09/30/2026" in text
    # FDCPA 1692e(11): a debt collector says so in every communication.
    assert "This message is from a debt collector." in text
    assert text.endswith("Reply STOP to opt out.")
    assert count_segments(text).segments == 1


def test_unknown_locale_falls_back_to_pt_br() -> None:
    text = reminder_message("ko-KR", creditor="Loja", amount_cents=100, currency="BRL", pay_by=DAY)
    assert "R$ 1,00" in text and "30/09/2026" in text and "SAIR" in text


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pt-BR").mkdir(exist_ok=True)
    (tmp_path / "pt-BR" / "sms.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def _with_reminder(template: str) -> str:
    head, _, _ = SOURCE.partition("  reminder: ")
    return head + f'  reminder: "{template}"\n'


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("DÍVIDA {creditor}: {amount} em {date}.", "must not open"),
        ("  cobrança de {amount}", "must not open"),
        ("Debt of {amount}", "must not open"),
        ("{creditor}: {amount} em {date}, {name}", "unknown field"),
        ("{creditor}: {amount} em {date}, {code}", "unknown field"),
        ("{creditor}: {amount} em {}", "named"),
        ("{creditor}: {amount", "malformed"),
    ],
)
def test_templates_that_break_a_rule_are_refused(tmp_path: Path, template: str, why: str) -> None:
    root = _write(tmp_path, _with_reminder(template))
    with pytest.raises(SmsTextError, match=why):
        SmsTexts.load("pt-BR", root)


def test_a_file_without_every_text_is_refused(tmp_path: Path) -> None:
    root = _write(tmp_path, SOURCE.replace("  payment_link:", "  other:"))
    with pytest.raises(SmsTextError, match="texts must be exactly"):
        SmsTexts.load("pt-BR", root)
    with pytest.raises(SmsTextError, match=r"sms\.yaml"):
        SmsTexts.load("en-US", root)  # no file at all


def test_another_section_is_loaded_and_checked_the_same_way(tmp_path: Path) -> None:
    extra = SOURCE + 'later:\n  confirm: "Ok, {creditor}."\n'
    texts = SmsTexts.load("pt-BR", _write(tmp_path, extra))
    assert texts.fill("confirm", section="later", creditor="Loja") == "Ok, Loja."
    bad = SOURCE + 'later:\n  confirm: "Divida: ok."\n'
    with pytest.raises(SmsTextError, match=r"later\.confirm"):
        SmsTexts.load("pt-BR", _write(tmp_path, bad))


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
