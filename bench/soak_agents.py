"""Bench agents for the soak: log in to the desktop, go available, take transfers.

Each agent does what the desktop page does: a password login
(``POST /desktop/login`` sets the session cookie), the live channel
(``/api/v1/agents/me/events``), ``available`` by hand, and after each call
the wrap-up. Taking the call is answering the agent's phone, which the
sandbox does for the agent's endpoint (a scripted callee that talks for a
while and hangs up). The counts say whether every transfer reached a
person's screen and was wrapped up.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ivr.web.auth import COOKIE_NAME
from tests.support.agents import DesktopClient


async def desktop_login(base_url: str, username: str, password: str) -> str:
    """The session cookie the desktop page gets for this agent's password."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            base_url + "/desktop/login", json={"username": username, "password": password}
        ) as resp,
    ):
        if resp.status != 200:
            raise RuntimeError(f"login of {username}: {resp.status} {await resp.text()}")
        morsel = resp.cookies.get(COOKIE_NAME)
        if morsel is None:
            raise RuntimeError(f"login of {username}: no session cookie")
        return morsel.value


@dataclass
class BenchAgent(DesktopClient):
    """The desktop's live channel with the session cookie, and what the agent did."""

    cookie: str = ""
    offers: set[int] = field(default_factory=set)
    connected: set[int] = field(default_factory=set)
    ended: set[int] = field(default_factory=set)
    missed: set[int] = field(default_factory=set)
    wrapped: set[int] = field(default_factory=set)
    wrapup_errors: list[str] = field(default_factory=list)
    _worker: asyncio.Task[None] | None = None
    _wrapups: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def headers(self) -> dict[str, str]:
        # A cookie, as the page sends it (sent by hand: the public URL is
        # https, so the cookie is Secure and a plain-http jar would keep it).
        return {"Cookie": f"{COOKIE_NAME}={self.cookie}"}

    async def start(self) -> None:
        """Connect, go available, then take what comes."""
        await self.__aenter__()
        status, body = await self.request(
            "PUT", "/api/v1/agents/me/presence", {"presence": "available"}
        )
        if status != 200:
            raise RuntimeError(f"presence: {status} {body}")
        self._worker = asyncio.create_task(self._work())

    async def stop(self) -> None:
        if self._wrapups:
            await asyncio.wait(self._wrapups, timeout=10)
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.__aexit__(None, None, None)

    async def _work(self) -> None:
        done = 0
        while True:
            while done < len(self.messages):
                self._handle(self.messages[done])
                done += 1
            self.arrived.clear()
            await self.arrived.wait()

    def _handle(self, msg: dict[str, Any]) -> None:
        tid = msg.get("transfer_id")
        if tid is None:
            return
        kind = msg["type"]
        if kind == "offer":
            self.offers.add(tid)
        elif kind == "connected":
            self.connected.add(tid)
        elif kind == "missed":
            self.missed.add(tid)
        elif kind == "ended" and tid not in self.ended:
            self.ended.add(tid)
            task = asyncio.create_task(self._wrapup(tid))
            self._wrapups.add(task)
            task.add_done_callback(self._wrapups.discard)

    async def _wrapup(self, transfer_id: int) -> None:
        status, body = await self.request(
            "POST",
            f"/api/v1/agents/me/transfers/{transfer_id}/wrapup",
            {"outcome": "no_agreement", "notes": "soak"},
        )
        if status == 200:
            self.wrapped.add(transfer_id)
        else:
            self.wrapup_errors.append(f"{transfer_id}: {status} {body}")
