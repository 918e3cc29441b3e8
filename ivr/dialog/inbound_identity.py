"""Who an inbound caller is: the person they pick on a shared number (by first
name or key), the people a keyed reference names, and the context the call
speaks as once one is chosen.

Pure functions over the call's context, kept apart from the walk of the flow
(:mod:`ivr.dialog.conversation`), which only applies what they return. None of
them verifies anyone: choosing a person says who the call is about, the flow's
verification still comes before any debt is said.
"""

from __future__ import annotations

from dataclasses import replace

from ivr.dialog.caller_turn import Answer
from ivr.dialog.events import CallContext, CallerLookup, IdentifyCaller, LogTurn, LookUpCaller
from ivr.dialog.flow_model import CollectMode


def person_in_text(text: str, ctx: CallContext) -> Answer | None:
    """An inbound caller on a shared number said a first name: which candidate.

    Only a name that picks exactly one person counts (two people named Ana
    must use the keypad)."""
    from ivr.dialog.nlu_text import strip_accents

    def fold(s: str) -> str:
        return strip_accents(s).casefold()

    words = set(fold(text).replace(",", " ").replace(".", " ").split())
    hits = [i for i, c in enumerate(ctx.candidates) if c.first_name and fold(c.first_name) in words]
    return Answer("person_chosen", choice=hits[0]) if len(hits) == 1 else None


def spoken_person(
    collect: CollectMode | None, text: str, ctx: CallContext, state: str
) -> tuple[Answer, LogTurn] | None:
    """In a question that asks which person, a first name that picks one (and its
    log); None: read the words as any other answer."""
    if collect is not CollectMode.PERSON:
        return None
    chosen = person_in_text(text, ctx)
    if chosen is None:
        return None
    return chosen, LogTurn("speech", {"state": state, "intent": chosen.intent})


def reference_lookup(collect: CollectMode | None, entry: str) -> LookUpCaller | None:
    """A keyed reference to look up (routed when the service answers with
    :class:`CallerLookup`); None when the entry is not one."""
    if collect is CollectMode.REFERENCE and entry:
        return LookUpCaller(entry)
    return None


def looked_up(
    ctx: CallContext, event: CallerLookup, state: str
) -> tuple[CallContext, Answer, LogTurn]:
    """The people a keyed reference names become the candidates; the answer
    routes ``found`` / ``not_found``."""
    intent = "found" if event.found else "not_found"
    log = LogTurn("lookup", {"state": state, "found": len(event.found)})
    return replace(ctx, candidates=event.found), Answer(intent, keyed=True), log


def select_caller(
    ctx: CallContext, chosen: int | None
) -> tuple[CallContext, IdentifyCaller | None] | None:
    """The context to speak as: the candidate the caller chose (the only one, if
    just one), with what the service records; None when nobody is chosen."""
    people = ctx.candidates
    index = chosen or 0
    if not people or index >= len(people):
        return None
    person = people[index]
    identify = IdentifyCaller(person.debtor_id) if person.debtor_id is not None else None
    return replace(person, candidates=people), identify
