"""What the demo prints at the end: each call's story, the outcomes, the campaign's KPIs.

Everything is read back from the store (and, for what the callee heard, from
the sandbox), through the same queries a report or a console uses
(:mod:`ivr.kpis`), so the demo shows what the service really recorded.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.agents.texts import money
from ivr.demo.people import Person
from ivr.kpis import CampaignKpis
from ivr.sandbox.app import Sandbox
from ivr.store.models import CallAttempt, CallEvent, Debtor, Promise
from ivr.vocab.outcomes import Outcome

# One line per outcome for a reader new to collection calls.
OUTCOME_WORDS: dict[str, str] = {
    Outcome.PROMISE: "the debtor promised to pay",
    Outcome.RIGHT_PARTY: "spoke with the debtor, nothing agreed",
    Outcome.REFUSED: "the debtor cannot pay now",
    Outcome.CALLBACK: "the debtor asked for another time",
    Outcome.OPT_OUT: "asked not to be called again",
    Outcome.WRONG_PARTY: "someone else answered",
    Outcome.AGENT: "handed to a person on the team",
    Outcome.VOICEMAIL: "a voicemail box took a short message",
    Outcome.NO_CONTACT: "no answer, busy, silence or an early hang-up",
    Outcome.ALREADY_PAID: "the debtor says it is paid",
    Outcome.ERROR: "the service failed and apologised",
    "": "still without an outcome",
}


async def tell_stories(
    console: Console,
    session: AsyncSession,
    sandbox: Sandbox,
    sids: dict[str, str],
    people: dict[str, Person],
) -> None:
    """Each call as the debtor lived it: what was said, what they keyed, what was agreed."""
    for ref, sid in sorted(sids.items()):
        attempt = await session.scalar(select(CallAttempt).where(CallAttempt.call_sid == sid))
        if attempt is None:
            continue
        debtor = await session.get(Debtor, attempt.debtor_id)
        assert debtor is not None
        person = people.get(attempt.to_number)
        what = person.label if person else "answers and listens"
        heard = sandbox.calls[sid].heard

        def say(text: str = "", *, markup: bool = True) -> None:
            console.print(text, markup=markup, highlight=False, soft_wrap=True)

        say(f"[bold]{ref}[/]  {debtor.name}  {attempt.to_number}  ({what})")
        say(
            f"    carrier: {attempt.status.value}, answered by {attempt.answered_by or '-'}, "
            f"{attempt.duration_s or 0} s; heard {len(heard) / 8000:.1f} s of audio",
        )
        say(f"    outcome: {attempt.outcome or '-'}")
        events = await session.scalars(
            select(CallEvent).where(CallEvent.attempt_id == attempt.id).order_by(CallEvent.id)
        )
        for e in events:
            if e.kind == "prompt":
                say(f"    said:   {e.data['text']}", markup=False)
            elif (e.kind == "dtmf" and e.data.get("intent")) or e.data.get("complete"):
                say(f"    keys:   {e.data.get('digits')}", markup=False)
        promise = await session.scalar(select(Promise).where(Promise.attempt_id == attempt.id))
        if promise is not None:
            say(
                f"    promise: {promise.amount_cents / 100:.2f} on "
                f"{promise.promised_date.isoformat()}",
            )
        say()


def outcomes_table(kpis: CampaignKpis) -> Table:
    """Calls by outcome, most frequent first, with what each outcome means."""
    table = Table(title="Outcomes", title_justify="left")
    table.add_column("outcome")
    table.add_column("calls", justify="right")
    table.add_column("share", justify="right")
    table.add_column("what happened")
    total = sum(kpis.outcomes.values())
    for outcome, n in kpis.outcomes.items():
        share = f"{n / total:.0%}" if total else "-"
        table.add_row(outcome or "-", str(n), share, OUTCOME_WORDS.get(outcome, ""))
    table.add_section()
    table.add_row("total", str(total), "", "")
    return table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def kpi_lines(kpis: CampaignKpis, locale: str) -> list[str]:
    """The campaign's KPIs, each with the counts it was made of (``ivr.kpis`` definitions)."""
    c, t = kpis.counts, kpis.transfers
    amounts = ", ".join(money(v, cur, locale) for cur, v in kpis.promised_cents.items()) or "-"
    rows = [
        ("attempts", str(c.attempts), "calls that reached the carrier"),
        (
            "contact rate",
            _pct(kpis.contact_rate),
            f"{c.live_contacts} of {c.attempts} attempts answered by a live person",
        ),
        (
            "RPC rate",
            _pct(kpis.rpc_rate),
            f"{c.right_party_contacts} of {c.attempts} attempts reached the verified debtor",
        ),
        (
            "promise rate",
            _pct(kpis.ptp_rate),
            f"{c.promises} promise(s) in {c.right_party_contacts} right-party contact(s)",
        ),
        (
            "abandonment",
            _pct(kpis.abandonment_rate),
            f"{t.abandoned} of {t.requested} transfers to an agent dropped while waiting"
            if t.requested
            else "no transfer to an agent was asked for",
        ),
        ("amount promised", amounts, f"in {c.promises} promise(s)"),
    ]
    if kpis.inbound.calls:
        i = kpis.inbound
        rows.append(
            (
                "calls from debtors",
                str(i.calls),
                f"{i.verified} verified, {i.promises} promise(s); not attempts",
            )
        )
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    return [f"  {name:<{width}}  {value:>{value_width}}   {why}" for name, value, why in rows]


def show_results(console: Console, kpis: CampaignKpis, locale: str) -> None:
    console.print()
    console.print(outcomes_table(kpis))
    console.print()
    console.print("[bold]Campaign KPIs[/]")
    for line in kpi_lines(kpis, locale):
        console.print(line, highlight=False, markup=False)
