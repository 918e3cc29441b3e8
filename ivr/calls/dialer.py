"""Placing calls: the ``place_call`` port the scheduler and ``ivr call`` use.

Before dialing, the debtor's personal prompts (name, amount, dates) are
synthesized so that answering never waits for the speech engine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.calls.context import build_call_context, debtor_zone
from ivr.calls.voice import VoiceStack
from ivr.config import Settings
from ivr.dialog.prompt_values import personal_prompts
from ivr.keys import CARRIER, SCHEDULER, SESSIONS, SETTINGS, VOICE
from ivr.logs import ids_bound
from ivr.messaging.outbox import OutgoingSms, SendResult, deliver
from ivr.store import queries
from ivr.store.call_attempts import is_claimed_for, record_placed
from ivr.store.models import CallAttempt, Debtor, Phone, utcnow
from ivr.store.recordings import decide_recording
from ivr.telephony.rest import CallInfo, CarrierError, CarrierUnknown, TwilioCalls
from scheduler.manual import Override, claim_named_debtor

if TYPE_CHECKING:
    from scheduler.carrier import CarrierCall

log = structlog.get_logger(__name__)


class CarrierDialer:
    """Sends a claimed attempt to the carrier; knows nothing of caps or windows."""

    def __init__(
        self,
        settings: Settings,
        carrier: TwilioCalls,
        sessions: async_sessionmaker[AsyncSession],
        voice: VoiceStack | None,
    ) -> None:
        assert settings.public_url and settings.twilio_from_number
        self.base = settings.public_url
        self.from_number = settings.twilio_from_number
        self.callback_numbers = settings.callback_numbers()
        self.carrier = carrier
        self.sessions = sessions
        self.voice = voice

    def urls(self, attempt_id: int) -> tuple[str, str, str, str]:
        """The voice, status, AMD and recording status URLs of one attempt."""
        q = f"?attempt={attempt_id}"
        return (
            f"{self.base}/twilio/voice{q}",
            f"{self.base}/twilio/status{q}",
            f"{self.base}/twilio/amd{q}",
            f"{self.base}/twilio/recording{q}",
        )

    async def prepare(self, attempt_id: int) -> int:
        """Decide whether the call is recorded (the campaign says; fixed on the
        attempt, so what is said and what is recorded agree), then render this
        debtor's personal prompts; returns how many texts."""
        async with self.sessions() as s, s.begin():
            await decide_recording(s, attempt_id)
        if self.voice is None:
            return 0
        async with self.sessions() as s:
            data = await queries.load_attempt_context(s, attempt_id)
            if data is None:
                return 0
            zone = debtor_zone(data.debtor)
            ctx = await build_call_context(s, data, zone, self.callback_numbers)
        catalog = self.voice.catalogs[ctx.locale]
        texts = [text for _pid, text, _v in personal_prompts(ctx, self.voice.flow, catalog)]
        await self.voice.synthesizer.prerender(texts, ctx.locale, personal=True)
        return len(texts)

    async def place(
        self, attempt_id: int, to_number: str, *, begun: bool = False, recorded: bool | None = None
    ) -> str:
        """Create the call; raises CarrierError / CarrierUnknown from the adapter.

        Only an attempt reserved by the claim transaction (``claimed``, or
        ``unknown`` while the dialer sends it) to that very number, never sent
        before, is dialled: a future path that skips the rule book fails here.
        ``begun``: the scheduler's dialer has just moved this very attempt to
        ``unknown`` in one guarded UPDATE at its paced instant (and rendered its
        prompts before the pace), so the request leaves at once: every
        statement between the pace and the request would bunch calls up.
        ``recorded``: the attempt's ``recording_requested`` as ``prepare`` fixed
        it (None: read it, deciding it if ``prepare`` did not run).
        """
        with ids_bound(attempt_id=attempt_id):
            if not begun:
                await self._check_claimed(attempt_id, to_number)
                await self.prepare(attempt_id)
            return await self._place(attempt_id, to_number, recorded)

    async def _check_claimed(self, attempt_id: int, to_number: str) -> None:
        async with self.sessions() as s:
            if not await is_claimed_for(s, attempt_id, to_number):
                raise PermissionError(f"attempt {attempt_id} was not claimed for {to_number}")

    async def _place(self, attempt_id: int, to_number: str, recorded: bool | None) -> str:
        voice_url, status_url, amd_url, recording_url = self.urls(attempt_id)
        if recorded is None:
            async with self.sessions() as s, s.begin():
                recorded = await decide_recording(s, attempt_id)
        sid = await self.carrier.create(
            to=to_number,
            from_=self.from_number,
            url=voice_url,
            status_callback=status_url,
            amd_callback=amd_url,
            recording_callback=recording_url if recorded else None,
        )
        async with self.sessions() as s, s.begin():
            await record_placed(s, attempt_id, sid)
        log.info("call.placed", attempt_id=attempt_id, call_sid=sid)
        return sid

    async def fetch(self, call_sid: str) -> CallInfo:
        return await self.carrier.fetch(call_sid)


async def claim_manual_attempt(
    sessions: async_sessionmaker[AsyncSession],
    external_ref: str,
    *,
    now: dt.datetime | None = None,
    override: Override | None = None,
) -> tuple[int, str]:
    """Reserve an attempt for ``ivr call`` (a supervisor's deliberate call).

    The same rule book and claim transaction as the dialer's ticks: refused
    (:class:`~scheduler.manual.CallRefused`, with the reasons ``/explain``
    gives) whenever the debtor may not be called; ``override`` may pass the
    frequency limits only, and is recorded on the attempt.
    """
    claim = await claim_named_debtor(sessions, external_ref, now or utcnow(), override=override)
    return claim.attempt_id, claim.to_number


def dialer_from_app(app: web.Application) -> CarrierDialer:
    return CarrierDialer(app[SETTINGS], app[CARRIER], app[SESSIONS], app.get(VOICE))


class SchedulerPort:
    """The scheduler's ``PlaceCall`` port over the carrier dialer.

    Carrier errors are translated to the scheduler's vocabulary: retryable
    (429, 5xx, refused connection), final, or unknown (to be reconciled).
    """

    def __init__(self, dialer: CarrierDialer) -> None:
        self.dialer = dialer

    async def prepare(self, attempt_id: int) -> int:
        """Render the personal prompts before the pace (see ``scheduler.dialer``)."""
        return await self.dialer.prepare(attempt_id)

    async def place(self, attempt: CallAttempt, debtor: Debtor, phone: Phone) -> str:
        from scheduler.carrier import PlaceCallError, PlaceCallUnknown

        try:
            return await self.dialer.place(
                attempt.id, phone.e164, begun=True, recorded=attempt.recording_requested
            )
        except CarrierError as exc:
            raise PlaceCallError(str(exc), retryable=exc.retryable) from exc
        except CarrierUnknown as exc:
            raise PlaceCallUnknown(str(exc)) from exc

    async def fetch(self, call_sid: str) -> CallInfo | None:
        from scheduler.carrier import PlaceCallUnknown

        try:
            return await self.dialer.carrier.fetch(call_sid)
        except CarrierError as exc:
            if exc.status == 404:
                return None
            raise PlaceCallUnknown(str(exc)) from exc
        except CarrierUnknown as exc:
            raise PlaceCallUnknown(str(exc)) from exc

    async def delete_recording(self, recording_sid: str) -> None:
        """Delete a recording at the carrier (the retention job); returns once the
        carrier confirmed it is gone, raises when it did not."""
        await self.dialer.carrier.delete_recording(recording_sid)

    async def deliver_sms(self, message_id: int, sms: OutgoingSms) -> SendResult:
        """Send an outbox row the reminder job wrote under its locks (``scheduler.reminders``)."""
        return await deliver(
            self.dialer.sessions, self.dialer.carrier, self.dialer.base, message_id, sms
        )

    async def find_calls(self, to: str, after: dt.datetime) -> list[CarrierCall]:
        from scheduler.carrier import PlaceCallUnknown

        try:
            return list(await self.dialer.carrier.find_to(to, after))
        except (CarrierError, CarrierUnknown) as exc:
            raise PlaceCallUnknown(str(exc)) from exc


async def scheduler_context(app: web.Application) -> AsyncIterator[None]:
    """Run the dialer ticks and jobs inside the service (cancelled first on exit)."""
    from scheduler.planner import scheduler_ctx

    port = SchedulerPort(dialer_from_app(app))
    ctx = contextlib.asynccontextmanager(scheduler_ctx)
    async with ctx(app[SETTINGS], app[SESSIONS], port) as sched:
        app[SCHEDULER] = sched
        from ivr.web.wallboard_live import wallboard_changed

        sched.on_change = lambda: wallboard_changed(app)
        yield
