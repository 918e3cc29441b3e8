"""The sandbox carrier as an aiohttp application, in-process or standalone.

``create_sandbox_app(config)`` serves Twilio's Calls, Recordings and Messages
REST resources, runs calls against scripted callees and carries SMS both
ways. Tests use :class:`Sandbox`::

    async with Sandbox(SandboxConfig(speed=20.0)) as sb:
        sb.add_callee("+5511999990000", CalleeScript(steps=[WaitForPrompt(), Press("1")]))
        client.api.base_url = sb.url
        ...
        call = await sb.wait_for_call_end(sid, timeout=10)

``run_sandbox(host, port, config)`` serves it until cancelled (``ivr sandbox``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

from aiohttp import web

from ivr.sandbox.callee import CalleeScript
from ivr.sandbox.config import FaultConfig, SandboxConfig
from ivr.sandbox.engine import Engine
from ivr.sandbox.messages import SandboxMessage
from ivr.sandbox.messages_center import MessageCenter
from ivr.sandbox.records import SandboxCall
from ivr.sandbox.rest import ENGINE_KEY, add_routes, api_middleware
from ivr.sandbox.rest_messages import MESSAGES_KEY, add_message_routes
from ivr.sandbox.rest_recordings import add_recording_routes


async def serve_app(app: web.Application, host: str, port: int = 0) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host``; port 0 lets the OS pick a free one.

    Returns the runner (the caller cleans it up) and the port actually bound,
    which is how the sandbox and the test stub (ivr/sandbox/testkit.py) learn
    where they listen.
    """
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None)
    assert sockets, f"{host}:{port} bound no socket"
    return runner, sockets[0].getsockname()[1]


def create_sandbox_app(config: SandboxConfig | None = None) -> web.Application:
    """An aiohttp app speaking Twilio's REST API; its engine is ``app[ENGINE_KEY]``."""
    config = config or SandboxConfig()
    app = web.Application(middlewares=[api_middleware])
    engine = Engine(config)
    app[ENGINE_KEY] = engine
    app[MESSAGES_KEY] = MessageCenter(config, engine)

    async def engine_ctx(_: web.Application) -> AsyncIterator[None]:
        await engine.start()
        yield
        await engine.stop()

    app.cleanup_ctx.append(engine_ctx)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "calls": len(engine.calls)})

    app.router.add_get("/health", health)
    add_routes(app)
    add_recording_routes(app)
    add_message_routes(app)
    return app


class ServedApp:
    """An aiohttp app served on ``host`` while the ``async with`` lasts (port 0: a free one).

    The sandbox and the test stub (ivr/sandbox/testkit.py) both are one, and
    tests reach them at ``url``.
    """

    def __init__(self, app: web.Application, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self, port: int = 0) -> None:
        self._runner, self.port = await serve_app(self.app, self.host, port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class Sandbox(ServedApp):
    """A sandbox carrier on 127.0.0.1 with a free port, for tests and demos."""

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1") -> None:
        self.config = config or SandboxConfig()
        super().__init__(create_sandbox_app(self.config), host)

    async def start(self, port: int = 0) -> None:
        await super().start(port)
        self.engine.base_url = self.url

    # ------------------------------------------------------------------ access

    @property
    def account_sid(self) -> str:
        return self.config.account_sid

    @property
    def auth_token(self) -> str:
        return self.config.auth_token

    @property
    def engine(self) -> Engine:
        return self.app[ENGINE_KEY]

    @property
    def calls(self) -> dict[str, SandboxCall]:
        """Every call leg so far (outbound, inbound and dialed), by sid."""
        return self.engine.calls

    @property
    def faults(self) -> FaultConfig:
        return self.config.faults

    def add_callee(self, number: str, script: CalleeScript) -> None:
        """Script the party at ``number`` (E.164, ``client:NAME`` or a ``sip:`` URI)."""
        self.config.callees[number] = script

    @property
    def sms(self) -> MessageCenter:
        """The SMS side: ``sb.sms.to(number)``, ``sb.sms.wait_for_final(sid)``..."""
        return self.app[MESSAGES_KEY]

    @property
    def messages(self) -> dict[str, SandboxMessage]:
        """Every message so far (outbound, inbound and replies), by sid."""
        return self.sms.messages

    async def send_inbound_sms(self, *, from_: str, to: str, body: str) -> SandboxMessage:
        """Someone texts the account's number ``to``; returns once the service answered."""
        return await self.sms.receive(from_=from_, to=to, body=body)

    def calls_to(self, number: str) -> list[SandboxCall]:
        return [c for c in self.calls.values() if c.to == number]

    def start_inbound_call(
        self,
        *,
        from_: str,
        to: str,
        url: str,
        method: str = "POST",
        script: CalleeScript | None = None,
        status_callback: str | None = None,
        status_callback_events: list[str] | None = None,
    ) -> SandboxCall:
        """Simulate someone calling the service's number; ``script`` is the caller."""
        return self.engine.start_inbound_call(
            from_=from_,
            to=to,
            url=url,
            method=method,
            script=script,
            status_callback=status_callback,
            status_callback_events=status_callback_events or (),
        )

    async def wait_for_call(self, to: str, timeout: float = 10.0) -> SandboxCall:  # noqa: ASYNC109
        """The first call placed to ``to`` (waits until the service places one)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(to)
            if found:
                return found[0]
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no call to {to} within {timeout} s")
            await asyncio.sleep(0.01)

    async def wait_for_call_end(self, sid: str, timeout: float = 10.0) -> SandboxCall:  # noqa: ASYNC109
        """Wait until the call has ended and its last status callback was delivered."""
        call = self.calls[sid]
        await asyncio.wait_for(call.ended.wait(), timeout)
        return call

    async def wait_for_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every call so far has ended."""
        async with asyncio.timeout(timeout):
            for call in list(self.calls.values()):
                await call.ended.wait()


async def run_sandbox(
    host: str = "127.0.0.1", port: int = 8099, config: SandboxConfig | None = None
) -> None:
    """Serve a sandbox until cancelled, printing where and with which credentials."""
    sandbox = Sandbox(config, host=host)
    await sandbox.start(port)
    print(f"Twilio sandbox listening on {sandbox.url}", flush=True)
    print(f"  account sid: {sandbox.account_sid}", flush=True)
    print(f"  auth token:  {sandbox.auth_token}", flush=True)
    print(f"  set IVR_TWILIO_API_URL={sandbox.url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await sandbox.close()
