"""The console's shell and both pages' languages in a real headless Chromium.

A supervisor signs in at /console in pt-BR, finds every page in the
navigation, switches to en-US (kept on the user) and the texts change; an
agent is refused kindly and pointed to the desktop; a supervisor at the
desktop is pointed to the console; the desktop speaks Portuguese to a pt-BR
agent, with the debt's amount and date written the Brazilian way.
Screenshots go to build/screenshots/ (or $IVR_SCREENSHOTS).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.store.models import CallEvent, Presence, Transfer, User
from ivr.vocab.locales import Locale
from tests.support.agents import seed_agent, seed_call
from tests.support.browser import (
    SUPERVISOR_PASSWORD,
    TABLET,
    add_supervisor,
    chromium_path,
    console_service,
    new_page,
    open_browser,
    shot,
)

NAV_PT = [
    "Painel ao vivo",
    "Campanhas",
    "Importar arquivos",
    "Devedores",
    "Não ligar",
    "Relatórios",
    "Usuários e agentes",
    "Auditoria",
]


@pytest.mark.slow
async def test_supervisor_signs_in_in_portuguese_and_switches_to_english(
    chromium_path: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with console_service(tmp_path) as svc, open_browser(chromium_path) as browser:
        await add_supervisor(svc.sessions)
        page = await new_page(browser, locale="pt-BR")
        # The old address leads to the console.
        await page.goto(svc.url + "/supervisor")
        assert page.url.endswith("/console#/wallboard")
        await expect(page.locator("#login-title")).to_have_text("Entrar no console")
        await shot(page, "console-login-pt-BR")
        await page.get_by_label("Usuário").fill("sofia")
        await page.get_by_label("Senha").fill("wrong password")
        await page.get_by_role("button", name="Entrar").click()
        await expect(page.locator(".form-error")).to_have_text("Usuário ou senha incorretos.")
        await page.get_by_label("Senha").fill(SUPERVISOR_PASSWORD)
        await page.get_by_role("button", name="Entrar").click()

        nav = page.get_by_role("navigation")
        await expect(nav.get_by_role("link")).to_have_text(NAV_PT)
        await expect(page.locator("#whoami")).to_have_text("Conectado como sofia")
        await expect(page.locator("#page-title")).to_have_text("Painel ao vivo")
        await shot(page, "console-wallboard-pt-BR-1280x800")

        await nav.get_by_role("link", name="Campanhas").click()
        await expect(page).to_have_url(svc.url + "/console#/campaigns")
        await expect(page.locator("#page-title")).to_have_text("Campanhas")
        await expect(nav.get_by_role("link", name="Campanhas")).to_have_attribute(
            "aria-current", "page"
        )
        await expect(page.locator("#campaign-list")).to_be_visible()

        await page.get_by_label("Idioma").select_option("en-US")
        await expect(page.locator("#page-title")).to_have_text("Campaigns")
        await expect(nav.get_by_role("link").first).to_have_text("Live wallboard")
        await expect(page.locator("#whoami")).to_have_text("Signed in as sofia")
        await expect(page.locator("html")).to_have_attribute("lang", "en-US")
        await shot(page, "console-campaigns-en-US-1280x800")
        async with svc.sessions() as s:
            saved = await s.scalar(select(User.locale).where(User.username == "sofia"))
        assert saved is Locale.EN_US

        # The setting outlives the page: a pt-BR browser still gets English.
        await page.reload()
        await expect(page.locator("#page-title")).to_have_text("Campaigns")

        tablet = await new_page(browser, locale="pt-BR", size=TABLET)
        await tablet.context.add_cookies(await page.context.cookies())
        await tablet.goto(svc.url + "/console#/debtors")
        await expect(tablet.locator("#page-title")).to_have_text("Debtors")
        await shot(tablet, "console-debtors-en-US-820x1180")

        await page.get_by_role("button", name="Log out").click()
        await expect(page.locator("#login")).to_be_visible()
        await page.goto(svc.url + "/console#/campaigns")
        await expect(page.locator("#login")).to_be_visible()
        await expect(page.locator("#nav")).to_be_hidden()


@pytest.mark.slow
async def test_people_at_the_wrong_page_are_pointed_to_theirs(
    chromium_path: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with console_service(tmp_path) as svc, open_browser(chromium_path) as browser:
        await seed_agent(svc.sessions, "ana", presence=Presence.OFFLINE, password="senha-da-ana-1")
        await add_supervisor(svc.sessions)

        page = await new_page(browser, locale="pt-BR")
        await page.goto(svc.url + "/")
        assert page.url.endswith("/console")
        await page.get_by_label("Usuário").fill("ana")
        await page.get_by_label("Senha").fill("senha-da-ana-1")
        await page.get_by_role("button", name="Entrar").click()
        notice = page.locator("#login-refused")
        await expect(notice).to_contain_text("Este console é para supervisores.")
        await expect(notice.get_by_role("link")).to_have_attribute("href", "/desktop")
        await expect(page.locator("#nav")).to_be_hidden()
        assert not await page.context.cookies()  # no session was started for her
        await shot(page, "console-agent-refused-pt-BR")

        desk = await new_page(browser, locale="en-US")
        await desk.goto(svc.url + "/desktop")
        await desk.get_by_label("User name").fill("sofia")
        await desk.get_by_label("Password").fill(SUPERVISOR_PASSWORD)
        await desk.get_by_role("button", name="Log in").click()
        refused = desk.locator("#refused")
        await expect(refused).to_contain_text("As a supervisor, you work in the console.")
        await expect(refused.get_by_role("link")).to_have_attribute("href", "/console")
        await shot(desk, "desktop-supervisor-refused-en-US")


@pytest.mark.slow
async def test_the_desktop_speaks_portuguese_to_a_brazilian_agent(
    chromium_path: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with console_service(tmp_path) as svc, open_browser(chromium_path) as browser:
        ana = await seed_agent(
            svc.sessions, "ana", presence=Presence.BUSY, password="senha-da-ana-1"
        )
        call = await seed_call(
            svc.sessions, ref="B-9", phone="+5511987650077", amount_cents=105_000
        )
        async with svc.sessions() as s, s.begin():
            s.add(
                Transfer(
                    attempt_id=call.attempt_id,
                    agent_id=ana.id,
                    reason="cannot_pay",
                    status="connected",
                )
            )
            # The system's own line, worded on the page in the agent's language.
            s.add(
                CallEvent(
                    attempt_id=call.attempt_id,
                    kind="promise",
                    data={"date": "2026-12-20", "amount_cents": 52_500},
                )
            )
            # Words heard as the caller hung up: shown, and marked as such.
            s.add(
                CallEvent(
                    attempt_id=call.attempt_id,
                    kind="speech",
                    data={"text": "tá bom tchau", "after_hangup": True},
                )
            )
        page = await new_page(browser, locale="pt-BR")
        await page.goto(svc.url + "/desktop")
        await expect(page.locator("h1")).to_have_text("Tela do atendente")
        await page.get_by_label("Usuário").fill("ana")
        await page.get_by_label("Senha").fill("senha-da-ana-1")
        await page.get_by_role("button", name="Entrar").click()
        await expect(page.locator("#connection")).to_have_text("Conectado.")
        await expect(page.locator("#presence-now")).to_have_text("Em atendimento")
        await expect(page.locator("#call-state")).to_have_text("Em ligação")
        await expect(page.locator("#debt-amount")).to_have_text("R$\u00a01.050,00")
        await expect(page.locator("#debt-due")).to_have_text("01/11/2026")
        await expect(page.get_by_text("Conversa até agora")).to_be_visible()
        await expect(page.locator("#transcript")).to_contain_text("URA:")
        last = page.locator("#transcript li").last
        await expect(last).to_contain_text("tá bom tchau (ao desligar)")
        await expect(page.locator("#transcript li", has_text="ao desligar")).to_have_count(1)
        await expect(page.locator("#transcript")).to_contain_text("teclou 0")
        await expect(page.locator("#transcript")).to_contain_text(
            "Sistema:promessa de pagamento: R$\u00a0525,00 em 20/12/2026"
        )
        await expect(page.locator("#transcript")).not_to_contain_text("keypad")
        await expect(page.locator("#sms-list")).to_have_text("Nenhuma mensagem com esta pessoa.")
        await shot(page, "desktop-call-pt-BR-1280x800")

        # Her own setting wins over the browser, and the amounts follow it.
        await page.get_by_label("Idioma").select_option("en-US")
        await expect(page.locator("#call-state")).to_have_text("On the call")
        await expect(page.locator("#debt-amount")).to_have_text("R$1,050.00")
        await expect(page.locator("#debt-due")).to_have_text("11/01/2026")
        await expect(page.locator("#presence-now")).to_have_text("Busy")
        await expect(last).to_contain_text("tá bom tchau (as they hung up)")
        await expect(page.locator("#transcript")).to_contain_text("pressed 0")
        await expect(page.locator("#transcript")).to_contain_text(
            "System:promise to pay: R$525.00 on 12/20/2026"
        )
        await expect(page.locator("#transfer-reason")).to_have_text("cannot pay now")
        async with svc.sessions() as s:
            saved = await s.scalar(select(User.locale).where(User.id == ana.user_id))
        assert saved is Locale.EN_US
        tablet = await new_page(browser, locale="pt-BR", size=TABLET)
        await tablet.context.add_cookies(await page.context.cookies())
        await tablet.goto(svc.url + "/desktop")
        await expect(tablet.locator("#call-state")).to_have_text("On the call")
        await shot(tablet, "desktop-call-en-US-820x1180")


__all__ = ["chromium_path"]  # the fixture, shared from tests.support.browser
