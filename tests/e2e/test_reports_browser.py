"""The reports page in a real headless Chromium: charts drawn, numbers below, CSV, errors.

A supervisor opens ``#/reports`` for a campaign with three weeks of calls
(after one run of the roll-up job): the three uPlot canvases hold drawn
pixels, the table shows every day and the totals in the user's locale, the
CSV link downloads the same days, and a period ending before it starts is
refused beside the "to" field. Screenshots at 1280x800 (pt-BR) and on a
tablet (en-US) go to build/screenshots/ (or $IVR_SCREENSHOTS).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.reports.rollups import refresh
from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Campaign,
    Debt,
    Debtor,
    Payment,
    Phone,
    Promise,
    PromiseStatus,
    utcnow,
)
from tests.support.browser import (
    TABLET,
    add_supervisor,
    chromium_path,
    console_service,
    new_page,
    open_browser,
    shot,
)

__all__ = ["chromium_path"]

DAYS = 21
# (status, answered_by, outcome): a day's calls, more of them as the weeks go.
MIX = [
    (AttemptStatus.NO_ANSWER, None, "no_contact"),
    (AttemptStatus.COMPLETED, "machine_end_beep", "voicemail"),
    (AttemptStatus.COMPLETED, "human", "no_contact"),  # silence: not a contact
    (AttemptStatus.COMPLETED, "human", "right_party"),
    (AttemptStatus.COMPLETED, "human", "promise"),
    (AttemptStatus.COMPLETED, "human", "wrong_party"),
]


async def seed(sessions: async_sessionmaker[AsyncSession]) -> int:
    today = utcnow().date()
    async with sessions() as s, s.begin():
        camp = Campaign(name="Cartões =SP")
        s.add(camp)
        await s.flush()
        debtor = Debtor(external_ref="R-1", name="Maria Silva", timezone="America/Sao_Paulo")
        debtor.phones.append(Phone(e164="+5511987654321"))
        debt = Debt(creditor="Loja", amount_cents=2_000_000, due_date=today, campaign_id=camp.id)
        debtor.debts.append(debt)
        s.add(debtor)
        await s.flush()
        for k in range(DAYS):
            day = today - dt.timedelta(days=DAYS - 1 - k)
            at = dt.datetime.combine(day, dt.time(13), dt.UTC)
            for n in range(6 + k % 7 + k // 3):
                status, answered_by, outcome = MIX[(n + k) % len(MIX)]
                a = CallAttempt(
                    debtor_id=debtor.id,
                    debt_id=debt.id,
                    campaign_id=camp.id,
                    to_number="+5511987654321",
                    status=status,
                    answered_by=answered_by,
                    outcome=outcome,
                    local_day=day,
                    claimed_at=at + dt.timedelta(minutes=n),
                    placed_at=at + dt.timedelta(minutes=n, seconds=1),
                    ended_at=at + dt.timedelta(minutes=n + 1),
                )
                s.add(a)
                await s.flush()
                if outcome == "promise":
                    s.add(
                        Promise(
                            debt_id=debt.id,
                            attempt_id=a.id,
                            promised_date=day,
                            amount_cents=10_000,
                            status=PromiseStatus.BROKEN if (n + k) % 4 == 0 else PromiseStatus.KEPT,
                        )
                    )
            s.add(Payment(debt_id=debt.id, amount_cents=5_000 + 1_500 * (k % 5), paid_on=day))
        await refresh(s, utcnow())
        return camp.id


async def drawn_canvases(page: object) -> list[int]:
    """Per chart canvas, how many pixels are not blank."""
    return await page.evaluate(  # type: ignore[attr-defined, no-any-return]
        """() => Array.from(document.querySelectorAll('.chart canvas')).map((c) => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
            return n;
        })"""
    )


@pytest.mark.slow
async def test_reports_page_draws_the_charts_and_the_numbers(
    chromium_path: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with console_service(tmp_path) as svc, open_browser(chromium_path) as browser:
        await add_supervisor(svc.sessions)
        campaign_id = await seed(svc.sessions)
        page = await new_page(browser, locale="pt-BR")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        answer = await page.context.request.post(
            svc.url + "/console/login", data={"username": "sofia", "password": "senha-da-sofia-1"}
        )
        assert answer.ok
        first = (utcnow().date() - dt.timedelta(days=DAYS - 1)).isoformat()
        await page.goto(f"{svc.url}/console#/reports?campaign={campaign_id}&from={first}")
        table = page.locator("section[aria-labelledby=reports-campaign] table.report")
        await expect(table.locator("tbody tr")).to_have_count(DAYS)
        await expect(page.locator(".chart canvas")).to_have_count(3)
        drawn = await drawn_canvases(page)
        assert len(drawn) == 3 and all(n > 500 for n in drawn), drawn
        await expect(page.locator(".chart .u-title").first).to_have_text("Chamadas por dia")
        # Money and dates the Brazilian way; the totals row sums the days.
        total = table.locator("tfoot tr")
        await expect(total.locator("th")).to_have_text("Total")
        assert "R$" in (await total.inner_text()) and "\u00a0" in await total.inner_text()
        first_day = table.locator("tbody tr").first.locator("th")
        await expect(first_day).to_have_text(dt.date.fromisoformat(first).strftime("%d/%m/%Y"))
        # The summary lists the campaign by its name, as text.
        await expect(
            page.locator("section[aria-labelledby=reports-summary] tbody th")
        ).to_have_text("Cartões =SP")
        link = page.get_by_role("link", name="Baixar CSV").first
        href = await link.get_attribute("href")
        assert href is not None and "format=csv" in href
        csv = await page.context.request.get(svc.url + href)
        lines = (await csv.text()).strip().splitlines()
        assert len(lines) == 1 + DAYS + 1 and "'=SP" not in lines[1]
        assert "Cartões =SP" in lines[1]  # not a formula start: left as written
        await shot(page, "reports-pt-BR")

        # A period that ends before it starts: the error beside "Até".
        await page.get_by_label("Até").fill(
            (utcnow().date() - dt.timedelta(days=DAYS + 5)).isoformat()
        )
        await page.get_by_role("button", name="Mostrar").first.click()
        error = page.locator(".field:has(input[name=to]) .field-error")
        await expect(error).to_contain_text("366 dias")
        await shot(page, "reports-error-pt-BR")
        assert not errors, errors

        tablet = await new_page(browser, locale="en-US", size=TABLET)
        await tablet.context.request.post(
            svc.url + "/console/login", data={"username": "sofia", "password": "senha-da-sofia-1"}
        )
        await tablet.goto(f"{svc.url}/console#/reports?campaign={campaign_id}&from={first}")
        await expect(tablet.locator(".chart canvas")).to_have_count(3)
        await expect(tablet.locator(".chart .u-title").nth(1)).to_have_text("Rates")
        assert all(n > 500 for n in await drawn_canvases(tablet))
        await shot(tablet, "reports-tablet-en-US")
