"""The agent desktop in a real headless Chromium: log in, go available, get the pop,
write the wrap-up, and find it in the store.

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the
``playwright`` Python package (its own browser download is not used).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.store.models import Agent, Presence, Promise, Transfer
from tests.support.agents import (
    agent_who_talks,
    agents_service,
    attach_call,
    live_sandbox_call,
    seed_agent,
    seed_call,
)
from tests.support.browser import chromium_path, open_browser

DEBTOR = "+5511987650009"
PROMISED = dt.date.today() + dt.timedelta(days=3)  # promises are refused in the past


@pytest.mark.slow
async def test_agent_desktop_in_a_browser(chromium_path: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    db = tmp_path / "ivr.db"
    from ivr.store.migrate import upgrade

    url = f"sqlite+aiosqlite:///{db}"
    await asyncio.to_thread(upgrade, url)
    async with (
        Sandbox(SandboxConfig(speed=10.0)) as sb,
        agents_service(url, sb, tmp_path / "tts", agent_wrapup_seconds=600) as svc,
    ):
        ana = await seed_agent(
            svc.sessions, "ana", presence=Presence.OFFLINE, password="senha-da-ana-1"
        )
        sb.add_callee(ana.endpoint, agent_who_talks(14))
        call = await seed_call(svc.sessions, ref="B-1", phone=DEBTOR)

        async with open_browser(chromium_path) as browser:
            page = await browser.new_page(locale="en-US")
            await page.goto(svc.url + "/desktop")
            await page.get_by_label("User name").fill("ana")
            await page.get_by_label("Password").fill("senha-da-ana-1")
            await page.get_by_role("button", name="Log in").click()
            await expect(page.locator("#whoami")).to_have_text("Ana")
            await expect(page.locator("#connection")).to_have_text("Connected.")
            await expect(page.locator("#presence-now")).to_have_text("Offline")

            await page.get_by_label("Available").check()
            await expect(page.locator("#presence-now")).to_have_text("Available")

            sid = await live_sandbox_call(sb, DEBTOR)
            await attach_call(svc.sessions, call.attempt_id, sid)
            assert await svc.transfers.request(
                attempt_id=call.attempt_id,
                call_sid=sid,
                reason="cannot_pay",
                locale="pt-BR",
            )
            # The pop: who, what, why, and what was said.
            await expect(page.locator("#debtor-name")).to_have_text("Maria Souza")
            await expect(page.locator("#debtor-phones")).to_have_text(DEBTOR)
            await expect(page.locator("#debt-creditor")).to_have_text("Loja Estrela")
            await expect(page.locator("#debt-amount")).to_have_text("R$150.00")  # her locale
            # The reason in the language she reads; what the caller said, as said.
            await expect(page.locator("#transfer-reason")).to_have_text("cannot pay now")
            await expect(page.locator("#transcript")).to_contain_text("quero falar com uma pessoa")
            await expect(page.locator("#call-state")).to_have_text("On the call", timeout=20_000)
            # The call ends: the wrap-up form opens.
            await expect(page.locator("#wrapup")).to_be_visible(timeout=30_000)
            await expect(page.locator("#presence-now")).to_have_text("Busy")
            await page.get_by_label("Outcome").select_option("promise")
            await page.get_by_label("Promise date").fill(PROMISED.isoformat())
            await page.get_by_label("Promise amount").fill("75.50")
            await page.get_by_label("Notes").fill("Paga metade no dia 5.")
            await page.get_by_role("button", name="Save wrap-up").click()
            await expect(page.locator("#connection")).to_have_text("Wrap-up saved.")
            await expect(page.locator("#wrapup")).to_be_hidden()
            await expect(page.locator("#presence-now")).to_have_text("Available")

        async with svc.sessions() as s:
            transfer = await s.scalar(
                select(Transfer).where(Transfer.attempt_id == call.attempt_id)
            )
            assert transfer is not None
            assert transfer.status == "completed" and transfer.agent_id == ana.id
            assert transfer.outcome == "promise" and transfer.notes == "Paga metade no dia 5."
            promise = await s.scalar(select(Promise).where(Promise.debt_id == call.debt_id))
            assert promise is not None
            assert promise.source == "agent" and promise.amount_cents == 7550
            assert promise.promised_date == PROMISED
            agent = await s.get(Agent, ana.id)
            assert agent is not None and agent.presence is Presence.AVAILABLE


__all__ = ["chromium_path"]  # the fixture, shared from tests.support.browser
