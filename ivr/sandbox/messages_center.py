"""The carrier's SMS side: outbound lifecycles, inbound messages, opt-outs.

Outbound (REST or a TwiML ``<Message>`` reply) follows Twilio's order:
``accepted`` (with a Messaging Service; it then picks a sender and goes
``queued``) or ``queued`` -> ``sending`` -> ``sent`` -> ``delivered``, or
``undelivered`` (after ``sent``, with 30003/30005/30006...) or ``failed``
(before it left). No callback is sent for the status a message was created
with; every later change is one signed POST to its ``StatusCallback``.

Inbound (injected by a test with :meth:`MessageCenter.receive`) is recorded
as a Message (``inbound``, ``received``), POSTed signed to the number's
Messaging URL, and a TwiML answer's ``<Message>`` verbs become
``outbound-reply`` messages to the sender.

Advanced Opt-Out (:mod:`ivr.sandbox.opt_out`) for +1 senders: an inbound
STOP marks the pair unsubscribed and later sends to it fail with 21610.
How numbers are read (valid E.164, country) is in :mod:`ivr.sandbox.numbers`.
"""

from __future__ import annotations

import asyncio
import random
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import phonenumbers

from ivr.messaging.segments import count_segments
from ivr.sandbox.messages import SandboxMessage, new_message_sid
from ivr.sandbox.messages_config import SmsOutcome
from ivr.sandbox.numbers import country_of, parse_number
from ivr.sandbox.opt_out import AUTO_REPLIES, keyword_of
from ivr.sandbox.records import API_VERSION
from ivr.sandbox.twiml import TwimlError, parse_twiml, text_of
from ivr.vocab.messages import SmsStatus

if TYPE_CHECKING:
    from ivr.sandbox.config import SandboxConfig
    from ivr.sandbox.engine import Engine

ERROR_WEBHOOK = 11200
ERROR_TWIML = 12100
ERROR_EMPTY_BODY = 14103


class MessageCenter:
    """Every message of one sandbox, and the unsubscribed (recipient, sender) pairs."""

    def __init__(self, config: SandboxConfig, engine: Engine) -> None:
        self.config = config
        self.sms = config.sms
        self.engine = engine
        self.messages: dict[str, SandboxMessage] = {}
        self.unsubscribed: set[tuple[str, str]] = set()
        self._rng = random.Random(config.sms.seed)
        self._added = asyncio.Event()

    def _add(self, message: SandboxMessage) -> None:
        self.messages[message.sid] = message
        self._added.set()

    # ------------------------------------------------------------------ rules

    def is_unsubscribed(self, recipient: str, sender: str) -> bool:
        return (recipient, sender) in self.unsubscribed

    def service_senders(self, service_sid: str) -> list[str] | None:
        return self.sms.messaging_services.get(service_sid)

    def owns_sender(self, number: str) -> bool:
        if number in self.sms.messaging_urls or not self.sms.senders:
            return True
        return number in self.sms.senders

    def pick_sender(self, service_sid: str, to: str) -> str:
        """Twilio's Country Code Geomatch: a sender of the recipient's country if any."""
        pool = self.sms.messaging_services[service_sid]
        country = country_of(to)
        return next((n for n in pool if country_of(n) == country), pool[0])

    def outcome_for(self, to: str) -> SmsOutcome | None:
        """How a message to ``to`` ends if not ``delivered``."""
        if to in self.sms.outcomes:
            return self.sms.outcomes[to]
        parsed = parse_number(to)
        if (
            self.sms.landlines_undelivered
            and parsed is not None
            and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE
        ):
            return SmsOutcome("undelivered", 30006)
        return None

    @property
    def step_s(self) -> float:
        return self.sms.step_s / self.config.clock_speed

    # ------------------------------------------------------------------ outbound

    def send(
        self,
        *,
        to: str,
        body: str,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        status_callback_method: str = "POST",
        direction: str = "outbound-api",
        in_reply_to: str | None = None,
        carrier_reply: bool = False,
    ) -> SandboxMessage:
        """Create an outbound message (already validated) and start its lifecycle.

        ``carrier_reply``: the carrier's own answer to STOP/START/HELP, which
        reaches a number that has just unsubscribed.
        """
        accepted = messaging_service_sid is not None and from_ is None
        message = SandboxMessage(
            sid=new_message_sid(),
            account_sid=self.config.account_sid,
            to=to,
            from_=from_,
            body=body,
            direction=direction,
            status=SmsStatus.ACCEPTED if accepted else SmsStatus.QUEUED,
            messaging_service_sid=messaging_service_sid,
            status_callback=status_callback,
            status_callback_method=status_callback_method.upper(),
            in_reply_to=in_reply_to,
        )
        self._add(message)
        self.engine.spawn(self._lifecycle(message, carrier_reply), f"sms-{message.sid}")
        return message

    async def _lifecycle(self, message: SandboxMessage, carrier_reply: bool) -> None:
        held: list[dict[str, str]] = []
        try:
            if message.status == SmsStatus.ACCEPTED:
                await asyncio.sleep(self.step_s)
                assert message.messaging_service_sid is not None
                message.from_ = self.pick_sender(message.messaging_service_sid, message.to)
                await self._move(message, SmsStatus.QUEUED, held)
            await asyncio.sleep(self.step_s)
            assert message.from_ is not None
            if not carrier_reply and self.is_unsubscribed(message.to, message.from_):
                await self._move(message, SmsStatus.FAILED, held, SmsOutcome("failed", 21610))
                return
            outcome = self.outcome_for(message.to)
            if outcome is not None and outcome.status == "failed":
                await self._move(message, SmsStatus.FAILED, held, outcome)
                return
            await self._move(message, SmsStatus.SENDING, held)
            await asyncio.sleep(self.step_s)
            await self._move(message, SmsStatus.SENT, held)
            await asyncio.sleep(self.step_s)
            if outcome is not None:
                await self._move(message, SmsStatus.UNDELIVERED, held, outcome)
            else:
                await self._move(message, SmsStatus.DELIVERED, held)
        finally:
            await self._flush(message, held)
            message.final.set()

    async def _move(
        self,
        message: SandboxMessage,
        status: SmsStatus,
        held: list[dict[str, str]],
        outcome: SmsOutcome | None = None,
    ) -> None:
        """Change status and send (or hold, for out-of-order delivery) its callback."""
        if outcome is not None:
            message.set_status(status, outcome.error_code, outcome.error_message)
        else:
            message.set_status(status)
        if not message.status_callback:
            return
        params = message.callback_params()
        if self.sms.callback_order == "in-order":
            await self._post(message, params)
        else:
            held.append(params)

    async def _flush(self, message: SandboxMessage, held: list[dict[str, str]]) -> None:
        if not held:
            return
        if self.sms.callback_order == "reverse":
            held.reverse()
        elif len(held) > 1:
            original = list(held)
            while held == original:
                self._rng.shuffle(held)
        for params in held:
            await self._post(message, params)

    async def _post(self, message: SandboxMessage, params: dict[str, str]) -> None:
        assert message.status_callback is not None
        await self.engine.poster.send(
            "status",
            message.status_callback,
            params,
            message.status_callback_method,
            message.callbacks,
        )

    # ------------------------------------------------------------------ inbound

    async def receive(
        self, *, from_: str, to: str, body: str, url: str | None = None, method: str | None = None
    ) -> SandboxMessage:
        """An SMS from ``from_`` arrives at the account's number ``to``.

        Returns once the service's webhook (``url``, default the number's
        Messaging URL) has answered and any ``<Message>`` reply was created.
        """
        message = SandboxMessage(
            sid=new_message_sid(),
            account_sid=self.config.account_sid,
            to=to,
            from_=from_,
            body=body,
            direction="inbound",
            status=SmsStatus.RECEIVED,
        )
        message.date_sent = message.date_created
        self._add(message)
        keyword = keyword_of(body) if to.startswith("+1") else None
        if keyword == "STOP":
            self.unsubscribed.add((from_, to))
        elif keyword == "START":
            self.unsubscribed.discard((from_, to))
        url = url or self.sms.messaging_urls.get(to)
        if url:
            method = method or self.sms.messaging_methods.get(to, "POST")
            params = self.webhook_params(message, keyword)
            record = await self.engine.poster.send("sms", url, params, method, message.callbacks)
            if record.error is not None or (record.status or 0) >= 400:
                message.errors.append((ERROR_WEBHOOK, record.error or f"HTTP {record.status}"))
            elif record.body.strip():
                self._reply(message, record.body)
        if keyword is not None:
            self.send(
                to=from_,
                body=AUTO_REPLIES[keyword],
                from_=to,
                direction="outbound-reply",
                in_reply_to=message.sid,
                carrier_reply=True,
            )
        message.final.set()
        return message

    def webhook_params(self, message: SandboxMessage, keyword: str | None) -> dict[str, str]:
        """The incoming-message webhook's form, with Twilio's geographic fields."""
        assert message.from_ is not None
        params = {
            "AccountSid": message.account_sid,
            "ApiVersion": API_VERSION,
            "Body": message.body,
            "From": message.from_,
            "FromCity": "",
            "FromCountry": country_of(message.from_),
            "FromState": "",
            "FromZip": "",
            "MessageSid": message.sid,
            "NumMedia": "0",
            "NumSegments": str(count_segments(message.body).segments),
            "SmsMessageSid": message.sid,
            "SmsSid": message.sid,
            "SmsStatus": "received",
            "To": message.to,
            "ToCity": "",
            "ToCountry": country_of(message.to),
            "ToState": "",
            "ToZip": "",
        }
        if keyword is not None:
            params["OptOutType"] = keyword
        return params

    def _reply(self, inbound: SandboxMessage, text: str) -> None:
        """Create the ``outbound-reply`` messages a TwiML answer asks for."""
        try:
            root = parse_twiml(text)
        except TwimlError as exc:
            inbound.errors.append((ERROR_TWIML, str(exc)))
            return
        for verb in root:
            if verb.tag != "Message":
                continue
            self._reply_one(inbound, verb)

    def _reply_one(self, inbound: SandboxMessage, verb: ET.Element) -> None:
        body_el = verb.find("Body")
        body = text_of(body_el) if body_el is not None else text_of(verb)
        if not body:
            inbound.errors.append((ERROR_EMPTY_BODY, "Invalid Body: <Message> has no text"))
            return
        to = verb.get("to") or inbound.from_ or ""
        from_ = verb.get("from") or inbound.to
        callback = verb.get("statusCallback") or verb.get("action")
        self.send(
            to=to,
            body=body,
            from_=from_,
            status_callback=callback,
            status_callback_method=verb.get("method") or "POST",
            direction="outbound-reply",
            in_reply_to=inbound.sid,
        )

    # ------------------------------------------------------------------ test views

    def to(self, number: str) -> list[SandboxMessage]:
        """Messages to ``number``, oldest first."""
        return [m for m in self.messages.values() if m.to == number]

    def from_(self, number: str) -> list[SandboxMessage]:
        """Messages from ``number``, oldest first."""
        return [m for m in self.messages.values() if m.from_ == number]

    def replies_to(self, inbound_sid: str) -> list[SandboxMessage]:
        return [m for m in self.messages.values() if m.in_reply_to == inbound_sid]

    async def wait_for(
        self,
        to: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[SandboxMessage]:
        """Wait until ``count`` messages to ``to`` exist."""
        async with asyncio.timeout(timeout):
            while len(self.to(to)) < count:
                self._added.clear()
                await self._added.wait()
        return self.to(to)

    async def wait_for_final(self, sid: str, timeout: float = 10.0) -> SandboxMessage:  # noqa: ASYNC109
        """Wait until the message is final and its status callbacks were delivered."""
        message = self.messages[sid]
        await asyncio.wait_for(message.final.wait(), timeout)
        return message

    async def wait_for_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            for message in list(self.messages.values()):
                await message.final.wait()
