"""The wallboard's live channel as the console page uses it (no tests here).

``console_cookie`` signs a supervisor in at /console/login and returns the
session cookie (sent by hand: the service's public URL is https, so the
cookie is Secure and a client's jar would not send it over the loopback's
http). ``WallboardStream`` reads the Server-Sent Events and remembers when
each arrived; ``post_status`` is the carrier's signed status callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from twilio.request_validator import RequestValidator

from tests.e2e.harness import PUBLIC

Snapshot = dict[str, Any]


async def console_cookie(base_url: str, username: str, password: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            base_url + "/console/login", json={"username": username, "password": password}
        ) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return f"ivr_session={resp.cookies['ivr_session'].value}"


async def post_status(
    base_url: str, token: str, attempt_id: int, call_sid: str, status: str, sequence: int
) -> int:
    """The carrier's status callback for our attempt, signed over the public URL."""
    path = f"/twilio/status?attempt={attempt_id}"
    params = {
        "CallSid": call_sid,
        "AccountSid": "AC" + "0" * 32,
        "CallStatus": status,
        "SequenceNumber": str(sequence),
    }
    if status == "completed":
        params["CallDuration"] = "42"
    sig = RequestValidator(token).compute_signature(PUBLIC + path, params)
    async with (
        aiohttp.ClientSession() as http,
        http.post(base_url + path, data=params, headers={"X-Twilio-Signature": sig}) as r,
    ):
        return r.status


@dataclass
class WallboardStream:
    """``GET /api/v1/wallboard/stream`` read event by event."""

    base_url: str
    cookie: str
    events: list[tuple[str, Any]] = field(default_factory=list)
    arrival: list[float] = field(default_factory=list)  # time.monotonic() of each event
    status: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _http: aiohttp.ClientSession | None = None
    _task: asyncio.Task[None] | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> WallboardStream:
        self._http = aiohttp.ClientSession(
            headers={"Cookie": self.cookie, "Accept": "text/event-stream"},
            timeout=aiohttp.ClientTimeout(total=None, sock_read=None),
        )
        ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._read(ready))
        self.status = await ready
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._http is not None:
            await self._http.close()

    async def _read(self, ready: asyncio.Future[int]) -> None:
        assert self._http is not None
        try:
            async with self._http.get(self.base_url + "/api/v1/wallboard/stream") as resp:
                ready.set_result(resp.status)
                if resp.status != 200:
                    return
                name, data = "message", []
                async for raw in resp.content:
                    line = raw.decode("utf-8").rstrip("\n")
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
                    elif line == "" and data:
                        self.arrival.append(time.monotonic())
                        self.events.append((name, json.loads("\n".join(data))))
                        self._arrived.set()
                        name, data = "message", []
        finally:
            if not ready.done():
                ready.set_result(0)
            self.closed.set()
            self._arrived.set()

    def snapshots(self) -> list[Snapshot]:
        return [data for name, data in self.events if name == "snapshot"]

    async def wait_for(
        self, predicate: Callable[[str, Any], bool], within: float = 10.0
    ) -> tuple[int, Any]:
        """The index and data of the first event (from the start) that matches."""
        async with asyncio.timeout(within):
            while True:
                for i, (name, data) in enumerate(self.events):
                    if predicate(name, data):
                        return i, data
                if self.closed.is_set():
                    raise AssertionError(f"the stream closed; events: {self.events}")
                self._arrived.clear()
                await self._arrived.wait()
