"""A tiny stand-in for the service, to test the sandbox (and things built on it).

:class:`ServiceStub` is an aiohttp app on a free port that answers webhooks
with TwiML chosen per path, records every request with its form parameters,
and checks each ``X-Twilio-Signature`` with twilio-python's
:class:`~twilio.request_validator.RequestValidator` over the public URL (its
own URL unless ``public_base`` says otherwise). WebSocket paths get a handler
of the test's choosing, after the same signature check on the upgrade.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from twilio.request_validator import RequestValidator

from ivr.sandbox.app import ServedApp

Reply = str | Callable[[Mapping[str, str]], str | Awaitable[str]]
WsHandler = Callable[[web.WebSocketResponse, web.Request], Awaitable[None]]


@dataclass
class StubRequest:
    path: str
    method: str
    params: dict[str, str]
    signature_valid: bool
    headers: dict[str, str] = field(default_factory=dict)


class ServiceStub(ServedApp):
    """Records signed webhooks and answers them with configured TwiML."""

    def __init__(self, auth_token: str, public_base: str | None = None) -> None:
        super().__init__(web.Application(), "127.0.0.1")
        self.validator = RequestValidator(auth_token)
        self.public_base = public_base
        self.replies: dict[str, Reply] = {}
        self.statuses: dict[str, int] = {}
        self.ws_handlers: dict[str, WsHandler] = {}
        self.requests: list[StubRequest] = []
        self.ws_signatures: list[bool] = []
        self.arrived = asyncio.Event()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def reply(self, path: str, body: Reply, status: int = 200) -> None:
        """Answer ``path`` with ``body`` (TwiML text, or a function of the params)."""
        self.replies[path] = body
        self.statuses[path] = status

    def websocket(self, path: str, handler: WsHandler) -> None:
        self.ws_handlers[path] = handler

    def at(self, path: str) -> list[StubRequest]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(self, path: str, count: int = 1, timeout: float = 10.0) -> list[StubRequest]:  # noqa: ASYNC109
        """Wait until ``path`` was requested ``count`` times."""
        async with asyncio.timeout(timeout):
            while len(self.at(path)) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.at(path)

    def _public(self, request: web.Request, scheme: str) -> str:
        base = self.public_base or f"http://127.0.0.1:{self.port}"
        if scheme == "ws":
            base = "ws" + base.removeprefix("http")  # http -> ws, https -> wss
        return base.rstrip("/") + request.path_qs

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        signature = request.headers.get("X-Twilio-Signature", "")
        if request.path in self.ws_handlers:
            public = self._public(request, "ws")
            self.ws_signatures.append(bool(self.validator.validate(public, {}, signature)))
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await self.ws_handlers[request.path](ws, request)
            return ws
        form = await request.post()
        params = {k: str(v) for k, v in form.items()}
        valid = bool(self.validator.validate(self._public(request, "http"), params, signature))
        self.requests.append(
            StubRequest(request.path, request.method, params, valid, dict(request.headers))
        )
        self.arrived.set()
        reply = self.replies.get(request.path, "<Response/>")
        body = reply(params) if callable(reply) else reply
        if not isinstance(body, str):
            body = await body
        return web.Response(
            text=body, status=self.statuses.get(request.path, 200), content_type="text/xml"
        )
