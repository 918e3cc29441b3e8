"""A stand-in for the carrier's Messages resource, over real HTTP, for SMS tests.

Only ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (what
``TwilioCalls.send_message`` calls through the twilio library), answered as
Twilio documents it: 201 with the message's JSON (``queued``), or a 400 with
Twilio's error code (``21610``: the number replied STOP) for the numbers in
``refuse``. Used until the sandbox has its own Messages resource.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class SmsCarrier:
    url: str = ""
    sent: list[dict[str, str]] = field(default_factory=list)
    refuse: dict[str, int] = field(default_factory=dict)  # number -> Twilio error code
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def messages(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        to = form.get("To", "")
        if to in self.refuse:
            code = self.refuse[to]
            return web.json_response(
                {"code": code, "message": "refused", "more_info": "", "status": 400}, status=400
            )
        self.sent.append(form)
        sid = f"SM{next(self._seq):032d}"
        return web.json_response(
            {
                "sid": sid,
                "account_sid": request.match_info["account"],
                "to": to,
                "from": form.get("From"),
                "body": form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "error_code": None,
                "direction": "outbound-api",
            },
            status=201,
        )


@asynccontextmanager
async def sms_carrier() -> AsyncIterator[SmsCarrier]:
    carrier = SmsCarrier()
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", carrier.messages)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    carrier.url = str(server.make_url("")).rstrip("/")
    try:
        yield carrier
    finally:
        await server.close()
