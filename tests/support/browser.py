"""Pages in a real headless Chromium: the service, a signed-in supervisor, screenshots.

Shared by the console's and the desktop's browser tests (no tests here).
Chromium is Debian's ``/usr/bin/chromium`` (``IVR_TEST_CHROMIUM`` to change
it) driven by the ``playwright`` package; its own browser download is not used.

Typical use::

    async def test_x(chromium_path: str, tmp_path: Path) -> None:
        async with console_service(tmp_path) as svc, open_browser(chromium_path) as browser:
            await add_supervisor(svc.sessions)
            page = await new_page(browser, locale="pt-BR")
            await login(page, svc.url)                 # cookie session, then /console
            await page.goto(svc.url + "/console#/campaigns")
            await shot(page, "campaigns-pt-BR")

``login`` posts to ``/console/login`` through the page's own request context
(same cookie jar as the page), which is quicker than typing; the shell's own
login form is exercised by tests/e2e/test_console_browser.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ivr.sandbox.app import Sandbox
from ivr.store.migrate import upgrade
from ivr.store.models import Role, User
from ivr.vocab.locales import Locale
from ivr.web.accounts import create_user
from tests.support.agents import Running, agents_service

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

CHROMIUM = os.environ.get("IVR_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}
SUPERVISOR = "sofia"
SUPERVISOR_PASSWORD = "senha-da-sofia-1"


def browser_missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}"
    return None


@pytest.fixture
def chromium_path() -> str:
    """The Chromium to drive; skips locally (fails in CI) when there is none."""
    problem = browser_missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return CHROMIUM


@contextlib.asynccontextmanager
async def console_service(tmp_path: Path, **overrides: Any) -> AsyncIterator[Running]:
    """The real service (create_app) on a migrated SQLite file, with a sandbox carrier."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    await asyncio.to_thread(upgrade, url)
    async with Sandbox() as sb, agents_service(url, sb, tmp_path / "tts", **overrides) as svc:
        yield svc


async def add_supervisor(
    sessions: async_sessionmaker[AsyncSession],
    username: str = SUPERVISOR,
    password: str = SUPERVISOR_PASSWORD,
    *,
    locale: Locale | None = None,
) -> None:
    """A supervisor who can log in; ``locale`` None follows the browser."""
    await create_user(sessions, username, Role.SUPERVISOR, password)
    if locale is not None:
        from sqlalchemy import update

        async with sessions() as s, s.begin():
            await s.execute(update(User).where(User.username == username).values(locale=locale))


# How long an ``expect(...)`` waits for the page to reach what it asserts.
# Playwright's 5 s was once too short for a page's fetch and redraw on a
# 2-core machine running two test workers beside Chromium (the reports page's
# period error); a wait is not a timing assertion, and a page that never gets
# there still fails.
EXPECT_TIMEOUT_MS = 20_000


@contextlib.asynccontextmanager
async def open_browser(chromium_path: str) -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(
    browser: Browser, *, locale: str = "pt-BR", size: dict[str, int] | None = None
) -> Page:
    """A fresh page (own cookies) whose browser speaks ``locale`` (navigator.language
    and Accept-Language), at ``size`` (default 1280x800)."""
    context = await browser.new_context(locale=locale, viewport=size or DESKTOP)  # type: ignore[arg-type]
    return await context.new_page()


async def login(
    page: Page,
    base_url: str,
    username: str = SUPERVISOR,
    password: str = SUPERVISOR_PASSWORD,
    *,
    goto: str = "/console",
) -> None:
    """Sign in through /console/login with the page's cookie jar, then open ``goto``."""
    from playwright.async_api import expect

    answer = await page.context.request.post(
        base_url + "/console/login", data={"username": username, "password": password}
    )
    assert answer.ok, await answer.text()
    await page.goto(base_url + goto)
    await expect(page.locator("#nav")).to_be_visible()


def screenshot_dir() -> Path:
    out = Path(os.environ.get("IVR_SCREENSHOTS", "build/screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


async def shot(page: Page, name: str) -> Path:
    """Save what the page shows now as ``<dir>/<name>.png`` (whole page); its path."""
    path = screenshot_dir() / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
