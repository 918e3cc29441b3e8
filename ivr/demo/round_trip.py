"""The debtor's side of the demo: payment details by SMS, a call back to the
service, and a reply that stops text messages.

After the outbound calls, the debtor who heard our voicemail calls the
service's number back, confirms who she is, hears what is open and asks for
the payment details by SMS; the promise call's debtor accepted them too. Then
one debtor answers a text with SAIR. The demo prints every message the
carrier delivered, as the debtor's phone would show it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import select

from ivr.sandbox.callee import CalleeScript, Press, WaitForPrompt
from ivr.store.creditors import CreditorPix, set_creditor_pix
from ivr.store.models import CallAttempt, Debt, Debtor, Phone

if TYPE_CHECKING:
    from ivr.demo.campaign import Demo

# A Pix key per creditor of the example portfolio (random keys, as a bank issues them).
DEMO_PIX = {
    "Loja Estrela": CreditorPix(
        "2f6c8b1e-4d3a-4f7e-9a41-6b0d2c9e1a55", "LOJA ESTRELA", "SAO PAULO"
    ),
    "Banco Horizonte": CreditorPix(
        "7c1d2e3f-5a6b-4c8d-9e0f-1a2b3c4d5e6f", "BANCO HORIZONTE", "RIO DE JANEIRO"
    ),
    "Telefonia Sol": CreditorPix(
        "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d", "TELEFONIA SOL", "SALVADOR"
    ),
}
# Who calls back: the debtor whose voicemail asked her to, and her birth year.
CALLER_BACK = "+5531991234567"
CALLER_BIRTH_YEAR = "1992"
# Who answers a text with SAIR.
SAYS_SAIR = "+5511987654321"


async def set_up_payments(demo: Demo) -> None:
    """Creditors' Pix keys, so a promise can be paid with a code for its exact amount."""
    async with demo.sessions() as s, s.begin():
        creditors = set((await s.scalars(select(Debt.creditor))).all())
        for name in creditors & set(DEMO_PIX):
            await set_creditor_pix(s, name, DEMO_PIX[name])
    service_number = demo.settings.twilio_from_number or ""
    demo.sandbox.config.sms.set_messaging_url(
        service_number, f"{demo.settings.public_url}/twilio/sms"
    )


def calls_back_and_asks_for_sms() -> CalleeScript:
    """The caller confirms her name, keys her birth year, listens, presses 6
    (payment details by SMS), then says she needs nothing else."""
    return CalleeScript(
        steps=[
            WaitForPrompt(),  # welcome, "am I speaking with Ana?"
            Press("1"),
            WaitForPrompt(),  # your birth year, please
            Press(f"{CALLER_BIRTH_YEAR}#"),
            WaitForPrompt(),  # notice
            WaitForPrompt(),  # what is open
            WaitForPrompt(),  # the menu
            Press("6"),
            WaitForPrompt(),  # sent
            WaitForPrompt(),  # anything else?
            Press("2"),
            WaitForPrompt(),  # goodbye
        ]
    )


async def inbound_call(demo: Demo) -> None:
    """A debtor calls the service's number back, through the same path as Twilio's."""
    if demo.debtors is not None or CALLER_BACK not in demo.people:
        return  # the generated campaign has no one who calls back
    demo.console.print()
    demo.console.print(f"{CALLER_BACK} calls the service back", highlight=False)
    call = demo.sandbox.start_inbound_call(
        from_=CALLER_BACK,
        to=demo.settings.twilio_from_number or "",
        url=f"{demo.settings.public_url}/twilio/voice",
        script=calls_back_and_asks_for_sms(),
        status_callback=f"{demo.settings.public_url}/twilio/status",
    )
    await demo.sandbox.wait_for_call_end(call.sid, timeout=600)
    await asyncio.sleep(0.5)
    async with demo.sessions() as s:
        attempt = await s.scalar(select(CallAttempt).where(CallAttempt.call_sid == call.sid))
        who = await s.get(Debtor, attempt.debtor_id) if attempt and attempt.debtor_id else None
    verified = "verified" if attempt is not None and attempt.verified_at else "not verified"
    name = who.name if who else "an unknown caller"
    outcome = attempt.outcome if attempt and attempt.outcome else "-"
    demo.console.print(f"  {name}, {verified}; outcome: {outcome}", highlight=False)
    demo.sids[f"inbound {CALLER_BACK}"] = call.sid


async def reply_sair(demo: Demo) -> None:
    """A debtor answers our text with SAIR: one confirmation, and no more SMS."""
    if demo.debtors is not None or not demo.sandbox.sms.to(SAYS_SAIR):
        return
    service_number = demo.settings.twilio_from_number or ""
    await demo.sandbox.send_inbound_sms(from_=SAYS_SAIR, to=service_number, body="SAIR")
    await demo.sandbox.sms.wait_for_idle()
    async with demo.sessions() as s:
        opted = await s.scalar(
            select(Debtor.sms_opted_out_at).join(Phone).where(Phone.e164 == SAYS_SAIR)
        )
    demo.console.print()
    demo.console.print(
        f"{SAYS_SAIR} answered SAIR: "
        + ("no more SMS to them" if opted else "still receiving SMS (unexpected)"),
        highlight=False,
    )


async def show_messages(demo: Demo) -> None:
    """Every text the carrier carried, as the debtors' phones show them."""
    await demo.sandbox.sms.wait_for_idle()
    messages = sorted(demo.sandbox.messages.values(), key=lambda m: m.date_created)
    if not messages:
        return
    demo.console.print()
    demo.console.print("[bold]Text messages[/]")
    for m in messages:
        inbound = m.direction == "inbound"
        who = f"from {m.from_}" if inbound else f"to {m.to}"
        cost = f"{m.num_segments} part{'s' if m.num_segments > 1 else ''}, {m.encoding}"
        demo.console.print(f"  {who}  ({cost}; {m.status})", highlight=False, markup=False)
        for line in m.body.splitlines():
            demo.console.print(f"    | {line}", highlight=False, markup=False, soft_wrap=True)
