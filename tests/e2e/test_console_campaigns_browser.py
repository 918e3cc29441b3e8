"""Campaigns and uploads in the console, in a real headless Chromium, in pt-BR.

A supervisor creates a campaign with two ranges on Monday, first with an end
before its start (the API's error shows beside that end, in Portuguese), saves
it, pauses and resumes it; then uploads a portfolio with one bad row and sees
the report: the bad row's line and reason, and the good rows landed. The
campaign's page then lists the holidays of its debtors' state. Screenshots at
1280x800 and 820x1180 go to build/screenshots/ (or $IVR_SCREENSHOTS).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.store.models import CallWindow, Campaign, Debt, Debtor
from ivr.vocab.locales import Locale
from tests.support.browser import (
    TABLET,
    add_supervisor,
    chromium_path,
    console_service,
    login,
    new_page,
    open_browser,
    shot,
)

PORTFOLIO = (
    "external_ref,name,phone,amount,due_date,creditor,region\n"
    'CJ-1,Maria Souza,+55 11 98765-4321,"1.234,50",2026-10-28,Loja Estrela,SP\n'
    "CJ-2,João Pereira,12345,389.90,2026-10-15,Banco Horizonte,SP\n"
    "CJ-3,Ana Lima,(11) 99876-5432,389.90,15/10/2026,Banco Horizonte,SP\n"
)


@pytest.mark.slow
async def test_supervisor_sets_up_a_campaign_and_uploads_its_portfolio(
    chromium_path: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with console_service(tmp_path) as svc, open_browser(chromium_path) as browser:
        await add_supervisor(svc.sessions, locale=Locale.PT_BR)
        page = await new_page(browser, locale="pt-BR")
        await login(page, svc.url, goto="/console#/campaigns")
        await expect(page.locator("#campaign-list")).to_contain_text("Nenhuma campanha ainda")
        await page.get_by_role("link", name="Nova campanha").click()
        await expect(page.locator("#page-title")).to_have_text("Nova campanha")

        await page.get_by_label("Nome da campanha").fill("Carteira Junho")
        monday = page.locator('[data-weekday="0"]')
        await monday.get_by_label("Fim (segunda-feira)").fill("12:00")
        await page.get_by_role("button", name="Adicionar horário na segunda-feira").click()
        second_end = monday.locator(".w-end").nth(1)
        await monday.locator(".w-start").nth(1).fill("14:00")
        await second_end.fill("10:00")
        await page.get_by_label("Plano de novas tentativas (minutos)").fill("30, 120")
        await page.get_by_role("button", name="Criar campanha").click()

        # The API refuses windows[1].end; the words sit beside that end, in Portuguese.
        error = monday.locator(".range").nth(1).locator(".field-error")
        await expect(error).to_have_text(
            "O fim deve ser depois do início (00:00 significa meia-noite)."
        )
        await expect(second_end).to_have_attribute("aria-invalid", "true")
        await expect(second_end).to_be_focused()
        await shot(page, "campaign-new-error-pt-BR-1280x800")
        async with svc.sessions() as s:
            assert (await s.scalars(select(Campaign))).all() == []

        await second_end.fill("18:00")
        await page.get_by_role("button", name="Criar campanha").click()
        created = page.locator("#page .notice")
        await expect(created).to_have_text("Campanha “Carteira Junho” criada.")
        await expect(page.locator("#page-title")).to_have_text("Carteira Junho")
        await expect(page.locator(".holidays tbody tr").first).to_be_visible()
        async with svc.sessions() as s:
            camp = await s.scalar(select(Campaign).where(Campaign.name == "Carteira Junho"))
            assert camp is not None and camp.retry_delays_minutes == [30, 120]
            mondays = (
                await s.scalars(
                    select(CallWindow)
                    .where(CallWindow.campaign_id == camp.id, CallWindow.weekday == 0)
                    .order_by(CallWindow.start)
                )
            ).all()
        assert [(w.start, w.end) for w in mondays] == [
            (dt.time(8), dt.time(12)),
            (dt.time(14), dt.time(18)),
        ]
        await shot(page, "campaign-edit-pt-BR-1280x800")

        actions = page.locator(".page-actions")
        await actions.get_by_role("button", name="Pausar").click()
        await expect(actions.locator(".badge")).to_have_text("Pausada")
        assert not await _active(svc.sessions, camp.id)
        await actions.get_by_role("button", name="Retomar").click()
        await expect(actions.locator(".badge")).to_have_text("Ativa")
        assert await _active(svc.sessions, camp.id)

        await page.goto(svc.url + f"/console#/upload?campaign={camp.id}")
        form = page.locator("#portfolio-upload")
        await expect(form.get_by_label("Campanha")).to_have_value(str(camp.id))
        await form.get_by_label("Arquivo CSV").set_input_files(
            files=[{"name": "carteira.csv", "mimeType": "text/csv", "buffer": PORTFOLIO.encode()}]
        )
        await form.get_by_role("button", name="Enviar arquivo").click()
        report = page.locator("#portfolio-report")
        await expect(report.locator("h3").first).to_have_text("Relatório de “carteira.csv”")
        await expect(form.locator("progress")).to_have_js_property("value", 1)
        await expect(report.locator(".summary")).to_contain_text("Devedores novos2")
        bad = report.locator("tr[data-line]")
        await expect(bad).to_have_count(1)
        await expect(bad.locator("td").nth(0)).to_have_text("3")
        await expect(bad.locator("td").nth(1)).to_have_text("CJ-2")
        await expect(bad.locator("td").nth(2)).to_contain_text("phone")
        await shot(page, "upload-report-pt-BR-1280x800")
        async with svc.sessions() as s:
            refs = (
                await s.scalars(
                    select(Debtor.external_ref)
                    .join(Debt, Debt.debtor_id == Debtor.id)
                    .where(Debt.campaign_id == camp.id)
                    .order_by(Debtor.external_ref)
                )
            ).all()
        assert refs == ["CJ-1", "CJ-3"]

        tablet = await new_page(browser, locale="pt-BR", size=TABLET)
        await tablet.context.add_cookies(await page.context.cookies())
        await tablet.goto(svc.url + f"/console#/campaigns/{camp.id}")
        await expect(tablet.locator(".holidays")).to_contain_text(
            "Devedores desta campanha moram em: SP."
        )
        await shot(tablet, "campaign-edit-pt-BR-820x1180")
        await tablet.goto(svc.url + "/console#/campaigns")
        row = tablet.locator('tr[data-campaign="Carteira Junho"]')
        await expect(row).to_contain_text("Ativa")
        await shot(tablet, "campaigns-list-pt-BR-820x1180")
        await tablet.goto(svc.url + "/console#/upload")
        await expect(tablet.locator("#payments-upload")).to_be_visible()
        await shot(tablet, "upload-pt-BR-820x1180")


async def _active(sessions: object, campaign_id: int) -> bool:
    async with sessions() as s:  # type: ignore[operator]
        return bool(await s.scalar(select(Campaign.active).where(Campaign.id == campaign_id)))


__all__ = ["chromium_path"]  # the fixture, shared from tests.support.browser
