"""The console's record pages in a real headless Chromium: debtors, do-not-call,
users and the audit log.

A supervisor finds a debtor by phone, opens their page, reads why they cannot
be called now and when they next may be, opens the finished call to its turns
(what the service said, the words it recognised, the keys), stops SMS for
them and sees it on the timeline; puts a number on a do-not-call list and
looks it up; creates an agent and sees the change in the audit log.
Screenshots at 1280x800 and tablet size go to build/screenshots/.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    CallEvent,
    Campaign,
    Debtor,
    Payment,
    Promise,
    SmsMessage,
    utcnow,
)
from ivr.vocab.messages import SmsDirection, SmsPurpose, SmsStatus
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
from tests.support.claims import every_day, make_campaign, make_debtor

REF = "C-2040"
PHONE = "+5511987650077"


async def seed_debtor(sessions: object) -> int:
    """A debtor in a campaign with a call that ended ten minutes ago (turns and
    all), a promise, a payment and a reminder SMS."""
    now = utcnow()
    async with sessions() as s, s.begin():  # type: ignore[operator]
        camp: Campaign = await make_campaign(s, every_day(dt.time(8), dt.time(20)), name="Cartões")
        debtor: Debtor = await make_debtor(
            s, camp, phones=(PHONE, "+5511912340000"), ref=REF, amount_cents=105_000
        )
        debtor.name = "Maria Aparecida Souza"
        debt = debtor.debts[0]
        phone = debtor.phones[0]
        attempt = CallAttempt(
            debtor_id=debtor.id,
            debt_id=debt.id,
            phone_id=phone.id,
            campaign_id=camp.id,
            to_number=PHONE,
            status=AttemptStatus.COMPLETED,
            outcome="promise",
            answered_by="human",
            duration_s=133,
            claimed_at=now - dt.timedelta(minutes=13),
            placed_at=now - dt.timedelta(minutes=12),
            answered_at=now - dt.timedelta(minutes=12),
            ended_at=now - dt.timedelta(minutes=10),
            local_day=dt.date.today(),
            recording_sid="RE" + "0" * 32,
            recording_status="completed",
            recording_duration_s=131,
        )
        s.add(attempt)
        await s.flush()
        said = [
            ("prompt", {"prompt_id": "greet", "text": "Olá, falo com Maria Aparecida Souza?"}),
            ("speech", {"text": "sim sou eu", "confidence": 0.91, "intent": "yes"}),
            ("prompt", {"prompt_id": "offer", "text": "Podemos combinar o pagamento?"}),
            ("dtmf", {"digits": "1"}),
            # Said as the caller hung up: in the record, never acted on.
            ("speech", {"text": "obrigada tchau", "confidence": 0.8, "after_hangup": True}),
        ]
        for i, (kind, data) in enumerate(said):
            s.add(
                CallEvent(
                    attempt_id=attempt.id,
                    kind=kind,
                    data=data,
                    at=now - dt.timedelta(minutes=12) + dt.timedelta(seconds=10 * i),
                )
            )
        s.add(
            Promise(
                debt_id=debt.id,
                attempt_id=attempt.id,
                promised_date=dt.date.today() + dt.timedelta(days=5),
                amount_cents=50_000,
                created_at=now - dt.timedelta(minutes=10),
            )
        )
        s.add(
            Payment(
                debt_id=debt.id,
                amount_cents=20_000,
                paid_on=dt.date.today() - dt.timedelta(days=3),
            )
        )
        s.add(
            SmsMessage(
                debtor_id=debtor.id,
                debt_id=debt.id,
                direction=SmsDirection.OUTBOUND,
                purpose=SmsPurpose.REMINDER,
                to_number=PHONE,
                from_number="+5511300000000",
                body="Olá Maria, lembrete do seu acordo com Cartões.",
                status=SmsStatus.DELIVERED,
                created_at=now - dt.timedelta(days=1),
            )
        )
        return attempt.id


@pytest.mark.slow
async def test_supervisor_reads_a_debtor_and_acts(chromium_path: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    async with console_service(tmp_path) as svc, open_browser(chromium_path) as browser:
        await add_supervisor(svc.sessions)
        attempt_id = await seed_debtor(svc.sessions)
        page = await new_page(browser, locale="pt-BR")
        await login(page, svc.url, goto="/console#/debtors")

        # Search by phone, written the way people write it.
        await page.get_by_label("Nome, referência ou telefone").fill("(11) 98765-0077")
        await page.get_by_role("button", name="Buscar").click()
        results = page.locator("#search-results")
        await expect(results.locator("tbody tr")).to_have_count(1)
        await expect(results).to_contain_text("telefone")
        await shot(page, "console-debtors-search-pt-BR-1280x800")
        await results.get_by_role("link", name="Maria Aparecida Souza").click()
        await expect(page).to_have_url(svc.url + f"/console#/debtors/{REF}")
        await expect(page.locator("#page-title")).to_have_text("Maria Aparecida Souza")

        # Why not now, in words, and when next.
        callable_card = page.locator("#callable")
        await expect(callable_card).to_contain_text("Agora não, porque:")
        await expect(callable_card).to_contain_text("A última ligação foi há pouco tempo.")
        await expect(callable_card).to_contain_text("Próxima possibilidade:")
        await expect(callable_card).to_contain_text("E um SMS?")

        # The timeline: the call opens to its turns; money in Brazilian format.
        timeline = page.locator("ol.timeline")
        call = timeline.locator("li[data-kind=call]")
        await expect(call).to_contain_text("promessa de pagamento")
        await call.locator("summary").click()
        turns = call.locator("ol.turns li")
        await expect(turns).to_have_count(5)
        await expect(turns.nth(0)).to_contain_text("Olá, falo com Maria Aparecida Souza?")
        await expect(turns.nth(1)).to_contain_text("“sim sou eu”")
        await expect(turns.nth(3)).to_contain_text("1")
        await expect(turns.nth(4)).to_contain_text("“obrigada tchau” (ao desligar)")
        audio = call.locator("audio[controls]")
        await expect(audio).to_have_attribute("src", f"/api/v1/attempts/{attempt_id}/recording")
        await expect(timeline.locator("li[data-kind=promise]")).to_contain_text("R$\u00a0500,00")
        await expect(timeline.locator("li[data-kind=sms]")).to_contain_text("entregue")
        await shot(page, "console-debtor-pt-BR-1280x800")

        # Stop SMS: a confirmation dialog, then it is on the page and the timeline.
        await page.get_by_role("button", name="Bloquear SMS").click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_label("Como a pessoa pediu? (opcional)").fill("e-mail de 30/09")
        await shot(page, "console-debtor-optout-dialog-pt-BR-1280x800")
        await dialog.get_by_role("button", name="Bloquear SMS").click()
        await expect(page.locator("#debtor-notices")).to_contain_text("Feito: sem mais SMS.")
        await expect(timeline.locator("li[data-kind=opt_out]")).to_contain_text("Sem mais SMS")
        await expect(timeline.locator("li[data-kind=action]").first).to_contain_text(
            "bloqueou SMS a pedido da pessoa"
        )
        await expect(page.get_by_role("button", name="Liberar SMS")).to_be_visible()
        async with svc.sessions() as s:
            stopped = await s.scalar(
                select(Debtor.sms_opted_out_at).where(Debtor.external_ref == REF)
            )
        assert stopped is not None

        # A callback at 03:00 is refused beside the field, in words.
        await page.get_by_role("button", name="Agendar retorno").click()
        dialog = page.get_by_role("dialog")
        tomorrow = dt.date.today() + dt.timedelta(days=1)
        await dialog.get_by_label("Data e hora").fill(f"{tomorrow.isoformat()}T03:00")
        await dialog.get_by_role("button", name="Agendar").click()
        await expect(dialog.locator(".field-error")).to_contain_text(
            "fora do horário de ligação da pessoa"
        )
        await dialog.get_by_role("button", name="Cancelar").click()
        await expect(page.get_by_role("dialog")).to_have_count(0)

        tablet = await new_page(browser, locale="pt-BR", size=TABLET)
        await tablet.context.add_cookies(await page.context.cookies())
        await tablet.goto(svc.url + f"/console#/debtors/{REF}")
        await tablet.locator("li[data-kind=call] summary").click()
        await expect(tablet.locator("ol.turns li")).to_have_count(5)
        await shot(tablet, "console-debtor-pt-BR-820x1180")


@pytest.mark.slow
async def test_supervisor_keeps_lists_and_people(chromium_path: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    async with console_service(tmp_path) as svc, open_browser(chromium_path) as browser:
        await add_supervisor(svc.sessions)
        page = await new_page(browser, locale="pt-BR")
        await login(page, svc.url, goto="/console#/dnc")

        # Add a number, then ask when and why it is blocked.
        add = page.locator("form").filter(has=page.get_by_role("button", name="Incluir na lista"))
        await add.get_by_label("Lista").fill("Não Me Ligue SP")
        await add.get_by_label("Telefone").fill("12345")
        await add.get_by_role("button", name="Incluir na lista").click()
        await expect(add.locator(".field-error")).to_have_text("Este não é um telefone válido.")
        await add.get_by_label("Telefone").fill("(11) 3333-4444")
        await add.get_by_label("Motivo (opcional)").fill("pedido por telefone")
        await add.get_by_role("button", name="Incluir na lista").click()
        await expect(page.locator("#dnc-notices")).to_contain_text("+551133334444")
        lists = page.locator("#dnc-lists")
        await expect(lists.locator("tr[data-list='Não Me Ligue SP']")).to_contain_text("1")

        lookup = page.locator("form").filter(has=page.get_by_role("button", name="Consultar"))
        await lookup.get_by_label("Telefone").fill("+55 11 3333-4444")
        await lookup.get_by_role("button", name="Consultar").click()
        answer = page.locator("#lookup-answer")
        await expect(answer).to_contain_text("+551133334444 está bloqueado")
        await expect(answer).to_contain_text("na lista “Não Me Ligue SP”")
        await expect(answer).to_contain_text("Motivo: pedido por telefone")

        # Import a file with one bad line: the good lines land, the bad one is reported.
        listing = tmp_path / "nao-me-ligue.csv"
        listing.write_text("telefone\n11987650001\nnão é número\n(11) 98765-0002\n", "utf-8")
        imp = page.locator("form").filter(has=page.get_by_role("button", name="Importar"))
        await imp.get_by_label("Lista").fill("Não Me Ligue SP")
        await imp.get_by_label("Arquivo").set_input_files(str(listing))
        await imp.get_by_role("button", name="Importar").click()
        report = page.locator("#import-report")
        await expect(report).to_contain_text("2 números novos")
        await expect(report.locator("table.bad-lines tbody tr")).to_have_count(1)
        await expect(report.locator("table.bad-lines tbody tr td").first).to_have_text("3")
        await expect(report.locator("table.bad-lines tbody tr td").nth(1)).to_have_text(
            "“não é número” não é um telefone válido."
        )
        await expect(lists.locator("tr[data-list='Não Me Ligue SP']")).to_contain_text("3")
        await shot(page, "console-dnc-pt-BR-1280x800")

        # Users: create an agent; the one-time password is shown once.
        await page.goto(svc.url + "/console#/users")
        create = page.locator("#new-user")
        await create.get_by_label("Nome de usuário").fill("bruno")
        await create.get_by_label("Habilidades").fill("cartoes")
        await create.get_by_role("button", name="Criar usuário").click()
        once = page.locator("[data-once]")
        await expect(once).to_contain_text("Usuário bruno criado.")
        await expect(once.locator("code").first).not_to_be_empty()
        await expect(page.locator("tr[data-user=bruno]")).to_contain_text("Agente")
        await shot(page, "console-users-pt-BR-1280x800")

        # Reset his password behind a dialog; a new one-time password is shown.
        await page.locator("tr[data-user=bruno] [data-act=reset]").click()
        await page.get_by_role("dialog").get_by_role("button", name="Redefinir senha").click()
        await expect(once).to_contain_text("bruno")
        await expect(once.locator("code")).to_have_count(1)

        # Audit: the new user with its values, before -> after.
        await page.goto(svc.url + "/console#/audit")
        rows = page.locator("#audit-table tbody tr")
        created = rows.filter(has_text="criou").filter(has_text="bruno")
        await expect(created).to_have_count(1)
        await expect(created).to_contain_text("sofia")
        await expect(created.locator(".after").first).to_have_text("bruno")
        await expect(rows.filter(has_text="redefiniu a senha")).to_have_count(1)
        await shot(page, "console-audit-pt-BR-1280x800")

        tablet = await new_page(browser, locale="pt-BR", size=TABLET)
        await tablet.context.add_cookies(await page.context.cookies())
        for name in ("dnc", "users", "audit"):
            await tablet.goto(svc.url + f"/console#/{name}")
            await expect(tablet.locator(".page-body table tbody tr").first).to_be_visible()
            await shot(tablet, f"console-{name}-pt-BR-820x1180")


__all__ = ["chromium_path"]  # the fixture, shared from tests.support.browser
