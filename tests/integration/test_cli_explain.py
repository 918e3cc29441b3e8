"""``ivr explain``: the call and SMS verdicts for a terminal, from the same rule books."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from ivr.config import Settings
from ivr.explain_report import explain_report
from ivr.store.messages import add_outbound
from ivr.store.models import Debtor, Phone
from ivr.vocab.messages import SmsPurpose
from tests.support.claims import make_campaign, make_debtor

NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)  # Tuesday 12:00 in São Paulo


async def test_explain_prints_both_sections(sessions, db_url: str) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        d = await make_debtor(s, camp, ref="EXP-1")
    settings = Settings(database_url=db_url)
    text = await explain_report(settings, "EXP-1", NOW)
    assert "call: may be called now (+5511987654321)" in text
    assert "sms (reminder): may be sent now (+5511987654321; 0 of 1 today)" in text

    async with sessions() as s, s.begin():
        await add_outbound(
            s,
            debtor_id=d.id,
            purpose=SmsPurpose.PAYMENT_DETAILS,
            to="+5511987654321",
            from_="+551130000000",
            body="pix",
            local_day=NOW.date(),
        )
        await s.execute(update(Phone).where(Phone.debtor_id == d.id).values(e164="+551133334444"))
        await s.execute(update(Debtor).where(Debtor.id == d.id).values(sms_allowed=False))
    lines = (await explain_report(settings, "EXP-1", NOW)).splitlines()
    sms = lines[lines.index("sms (reminder): may not be sent now (1 of 1 today)") :]
    assert [line.split(":")[0].strip() for line in sms[1:4]] == [
        "sms_not_allowed",
        "no_mobile_number",
        "sms_daily_cap",
    ]
    assert sms[4] == "  next possible: not by itself (a person must change something)"


def test_explain_refuses_an_instant_without_offset(capsys) -> None:
    from ivr import cli

    assert cli.main(["explain", "EXP-1", "--at", "2026-11-24T12:00"]) == 1
    assert "--at needs a UTC offset" in capsys.readouterr().err
