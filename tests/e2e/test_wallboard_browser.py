"""A supervisor watches a call appear and end on the wallboard (headless Chromium).

The call's progress reaches the service as the carrier sends it: signed status
callbacks (ringing, in-progress, completed) to /twilio/status. Each must show
on the open page without a reload. The time from each callback to the page
showing it is printed (a figure for the report, not an assertion).
Screenshots: wallboard-*.png under build/screenshots/ (or $IVR_SCREENSHOTS).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Campaign,
    Debt,
    Debtor,
    Phone,
    Presence,
    utcnow,
)
from scheduler.windows import local_day
from scheduler.zones import reference_zone
from tests.support.agents import Running, seed_agent
from tests.support.browser import (
    TABLET,
    add_supervisor,
    chromium_path,  # noqa: F401 (fixture)
    console_service,
    login,
    new_page,
    open_browser,
    shot,
)
from tests.support.wallboard import post_status

SID = "CA" + "7" * 32


async def _seed(svc: Running) -> None:
    """A running campaign with two people, and a paused one."""
    async with svc.sessions() as s, s.begin():
        camp = Campaign(name="Cobrança Junho", daily_cap=2, max_concurrent_calls=3)
        s.add_all([camp, Campaign(name="Cartões Antigos", active=False)])
        await s.flush()
        people: list[Debtor] = []
        for ref, phone in (("JUN-001", "+5511987650201"), ("JUN-002", "+5511987650202")):
            d = Debtor(external_ref=ref, name="Maria Souza", timezone="America/Sao_Paulo")
            d.phones.append(Phone(e164=phone, position=0))
            d.debts.append(
                Debt(
                    creditor="Loja Estrela",
                    amount_cents=15_000,
                    due_date=dt.date(2026, 5, 1),
                    campaign_id=camp.id,
                )
            )
            s.add(d)
            people.append(d)


async def _dialing(svc: Running) -> int:
    """The first person is being dialed (queued at the carrier), written straight
    to the store: no event, so only the carrier's callback brings it to the board."""
    async with svc.sessions() as s, s.begin():
        person = await s.scalar(select(Debtor).where(Debtor.external_ref == "JUN-001"))
        assert person is not None
        phone = await s.scalar(select(Phone).where(Phone.debtor_id == person.id))
        debt = await s.scalar(select(Debt).where(Debt.debtor_id == person.id))
        assert phone is not None and debt is not None
        now = utcnow()
        attempt = CallAttempt(
            debtor_id=person.id,
            debt_id=debt.id,
            phone_id=phone.id,
            campaign_id=debt.campaign_id,
            to_number=phone.e164,
            status=AttemptStatus.QUEUED,
            call_sid=SID,
            local_day=local_day(now, reference_zone("BR")),  # the board's day, not UTC's
            claimed_at=now,
            placed_at=now,
        )
        s.add(attempt)
        await s.flush()
        return attempt.id


@pytest.mark.slow
async def test_a_supervisor_watches_a_call_appear_and_end(
    chromium_path: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    async with console_service(tmp_path) as svc, open_browser(chromium_path) as browser:
        await add_supervisor(svc.sessions)
        await seed_agent(svc.sessions, "ana", idle_since=utcnow() - dt.timedelta(minutes=4))
        await seed_agent(svc.sessions, "bruno", presence=Presence.AWAY)
        await _seed(svc)
        page = await new_page(browser, locale="pt-BR")
        await login(page, svc.url, goto="/console#/wallboard")
        await expect(page.locator("#page-title")).to_have_text("Painel ao vivo")
        await expect(page.locator(".live[data-live=on]")).to_be_visible()
        board = page.locator(".wallboard")
        await expect(board.locator("[data-empty=calls]")).to_have_text(
            "Nenhuma chamada em andamento agora."
        )
        paused = board.locator("[data-part=campaigns] tr", has_text="Cartões Antigos")
        await expect(paused.locator(".badge")).to_have_text("Pausada")
        await expect(board.locator("[data-agent] >> text=Ana")).to_be_visible()

        token = svc.settings.twilio_auth_token or ""
        attempt_id = await _dialing(svc)
        row = board.locator(f"tr[data-attempt='{attempt_id}']")
        figures: list[tuple[str, float]] = []
        for seq, (status, shown) in enumerate(
            [("ringing", "Tocando"), ("in-progress", "Em conversa")], start=1
        ):
            sent = time.monotonic()
            assert await post_status(svc.url, token, attempt_id, SID, status, seq) == 204
            await expect(row.locator(".badge")).to_have_text(shown, timeout=5000)
            figures.append((status, time.monotonic() - sent))
        await expect(row).to_contain_text("JUN-001")
        await expect(row).to_contain_text("Cobrança Junho")
        calls_tile = board.locator("[data-tile=calls] .tile-value")
        await expect(calls_tile).to_have_text("1")
        tick = row.locator(".ticking")
        first = await tick.text_content()
        await page.wait_for_timeout(2100)
        assert await tick.text_content() != first, "the time in state does not tick"
        await shot(page, "wallboard-call-in-progress-pt-BR-1280x800")

        sent = time.monotonic()
        assert await post_status(svc.url, token, attempt_id, SID, "completed", 3) == 204
        await expect(row).to_have_count(0, timeout=5000)
        figures.append(("completed", time.monotonic() - sent))
        await expect(calls_tile).to_have_text("0")
        camp = board.locator("[data-part=campaigns] tr", has_text="Cobrança Junho")
        await expect(camp).to_contain_text("1 de 4")
        await shot(page, "wallboard-call-ended-pt-BR-1280x800")
        print("\ncallback -> on screen: " + ", ".join(f"{s} {t:.3f} s" for s, t in figures))

        await page.get_by_label("Idioma").select_option("en-US")
        await expect(page.locator("#page-title")).to_have_text("Live wallboard")
        await expect(paused.locator(".badge")).to_have_text("Paused")
        await shot(page, "wallboard-en-US-1280x800")

        tablet = await new_page(browser, locale="pt-BR", size=TABLET)
        await login(tablet, svc.url, goto="/console#/wallboard")
        await expect(tablet.locator(".live[data-live=on]")).to_be_visible()
        await shot(tablet, "wallboard-pt-BR-tablet")
