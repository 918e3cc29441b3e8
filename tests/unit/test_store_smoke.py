"""The schema migrates and round-trips UTC datetimes on both backends."""

import datetime as dt

from sqlalchemy import select

from ivr.store.models import Campaign, Debt, Debtor, DebtStatus, Phone


async def test_debtor_round_trip(sessions) -> None:
    when = dt.datetime(2026, 11, 23, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    async with sessions() as s:
        camp = Campaign(name="c1")
        d = Debtor(external_ref="X1", name="Maria Silva", opted_out_at=when)
        d.phones.append(Phone(e164="+5511987654321"))
        d.debts.append(Debt(creditor="Loja", amount_cents=12345, due_date=dt.date(2026, 10, 1)))
        s.add_all([camp, d])
        await s.commit()
    async with sessions() as s:
        got = (await s.execute(select(Debtor).where(Debtor.external_ref == "X1"))).scalar_one()
        assert got.opted_out_at == when
        assert got.opted_out_at.tzinfo is not None
        assert got.first_name == "Maria"
        assert [p.e164 for p in got.phones] == ["+5511987654321"]
        assert got.debts[0].status is DebtStatus.OPEN
        assert got.debts[0].amount_cents == 12345
