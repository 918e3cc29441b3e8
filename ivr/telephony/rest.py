"""Outbound calls and messages through Twilio's REST API (or the sandbox), with
twilio-python.

Errors are sorted into what the dialer may retry (429, 5xx, refused
connection: the request surely did not create a call), what it must not
(4xx: the request is wrong), and what it must *reconcile* (a timeout: the
call may or may not exist).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
RECORDING_EVENTS = ["in-progress", "completed", "absent"]


class CarrierError(Exception):
    """The carrier refused the request; ``retryable`` says whether to try again."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.code = code  # Twilio's error code (21211, 21610...), when it gave one


class CarrierUnknown(Exception):
    """The request may or may not have reached the carrier (timeout): reconcile."""


@dataclass(frozen=True)
class CallInfo:
    sid: str
    status: str
    to: str
    answered_by: str | None
    duration: int | None
    start_time: Any = None


@dataclass(frozen=True)
class MessageInfo:
    sid: str
    status: str
    segments: int | None
    error_code: int | None


class TwilioCalls:
    """A thin async adapter over the Calls, Recordings and Messages resources.

    Construct inside a running loop (the async HTTP client opens a session).
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_url: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._http = AsyncTwilioHttpClient()
        self.client = Client(account_sid, auth_token, http_client=self._http)
        if api_url:
            self.client.api.base_url = api_url.rstrip("/")
        self.timeout_s = timeout_s

    async def close(self) -> None:
        await self._http.close()

    async def _run(self, coro: Any) -> Any:
        try:
            return await asyncio.wait_for(coro, self.timeout_s)
        except TwilioRestException as exc:
            retryable = exc.status == 429 or exc.status >= 500
            raise CarrierError(
                f"carrier answered {exc.status} (code {exc.code}): {exc.msg}",
                retryable=retryable,
                status=exc.status,
                code=int(exc.code) if isinstance(exc.code, int) else None,
            ) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise CarrierUnknown(f"no answer from the carrier in {self.timeout_s} s") from exc
        except aiohttp.ClientConnectorError as exc:
            raise CarrierError(f"cannot reach the carrier: {exc}", retryable=True) from exc
        except aiohttp.ClientError as exc:
            raise CarrierUnknown(f"connection to the carrier broke: {exc}") from exc

    async def create(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        amd_callback: str | None,
        timeout_s: int = 30,
        recording_callback: str | None = None,
    ) -> str:
        """Create the call; with ``recording_callback`` it is recorded (``Record=true``)
        and every recording status is posted there."""
        kwargs: dict[str, Any] = {
            "to": to,
            "from_": from_,
            "url": url,
            "status_callback": status_callback,
            "status_callback_event": STATUS_EVENTS,
            "status_callback_method": "POST",
            "timeout": timeout_s,
        }
        if amd_callback:
            kwargs.update(
                machine_detection="Enable",
                async_amd=True,
                async_amd_status_callback=amd_callback,
                async_amd_status_callback_method="POST",
            )
        if recording_callback:
            kwargs.update(
                record=True,
                recording_status_callback=recording_callback,
                recording_status_callback_event=RECORDING_EVENTS,
                recording_status_callback_method="POST",
            )
        call = await self._run(self.client.calls.create_async(**kwargs))
        return str(call.sid)

    async def delete_recording(self, sid: str) -> bool:
        """Delete a recording at the carrier: True when deleted now, False when the
        carrier no longer has it (404: deleted before). Other failures raise."""
        try:
            await self._run(self.client.recordings(sid).delete_async())
        except CarrierError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def fetch(self, sid: str) -> CallInfo:
        call = await self._run(self.client.calls(sid).fetch_async())
        return _info(call)

    async def find_to(self, to: str, after: Any) -> list[CallInfo]:
        """Calls to ``to`` started after ``after`` (to reconcile an unknown outcome)."""
        calls = await self._run(self.client.calls.list_async(to=to, start_time_after=after))
        return [_info(c) for c in calls]

    async def redirect(self, sid: str, *, url: str | None = None, twiml: str | None = None) -> None:
        await self._run(self.client.calls(sid).update_async(url=url, twiml=twiml))

    async def hangup(self, sid: str) -> None:
        await self._run(self.client.calls(sid).update_async(status="completed"))

    async def send_message(
        self, *, to: str, from_: str, body: str, status_callback: str
    ) -> MessageInfo:
        """Create an SMS; its statuses are posted to ``status_callback``."""
        msg = await self._run(
            self.client.messages.create_async(
                to=to, from_=from_, body=body, status_callback=status_callback
            )
        )
        return _message_info(msg)

    async def fetch_message(self, sid: str) -> MessageInfo:
        return _message_info(await self._run(self.client.messages(sid).fetch_async()))


def _message_info(msg: Any) -> MessageInfo:
    segments = getattr(msg, "num_segments", None)
    code = getattr(msg, "error_code", None)
    return MessageInfo(
        sid=str(msg.sid),
        status=str(msg.status),
        segments=int(segments) if segments not in (None, "") else None,
        error_code=int(code) if code not in (None, "") else None,
    )


def _info(call: Any) -> CallInfo:
    duration = getattr(call, "duration", None)
    return CallInfo(
        sid=str(call.sid),
        status=str(call.status),
        to=str(call.to),
        answered_by=getattr(call, "answered_by", None),
        duration=int(duration) if duration not in (None, "") else None,
        start_time=getattr(call, "start_time", None),
    )
