"""The call flow as data: its states, steps, routes and re-ask policies.

``flow.yaml`` is data so that wording, order and branches can be reviewed (and
changed) without reading code. This module holds the validated, in-memory form
that the loader (:mod:`ivr.dialog.flow_loader`) builds and the conversation
(:mod:`ivr.dialog.conversation`) walks, plus the vocabularies the document may
use, so the three agree on one definition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

from ivr.dialog import nlu_intents
from ivr.dialog.events import (
    EndCall,
    MarkWrongNumber,
    OptOut,
    OptOutNumber,
    RecordAlreadyPaid,
    ReportDeceased,
    SendPaymentDetails,
    TransferToAgent,
)
from ivr.dialog.grammars import CONTEXTS
from ivr.dialog.prompts import PromptCatalog
from ivr.vocab.intents import ENGINE_INTENTS as _ENGINE_INTENTS
from ivr.vocab.intents import Intent
from ivr.vocab.locales import LOCALES
from ivr.vocab.outcomes import DIALOG_OUTCOMES

DEFAULT_FLOW = Path(__file__).with_name("flow.yaml")

#: Intents the language understanding produces, the engine's own (from keypad
#: checks), and both: one vocabulary, ``ivr.vocab.intents``.
NLU_INTENTS: frozenset[str] = frozenset(nlu_intents.INTENTS)
ENGINE_INTENTS: frozenset[str] = frozenset(_ENGINE_INTENTS)
INTENTS: frozenset[str] = frozenset(Intent)

#: Listening contexts (grammar names), a contract with ``grammars/``.
GRAMMARS: frozenset[str] = frozenset(CONTEXTS)
#: Outcomes a flow step may set (``ivr.vocab.outcomes``; ``error`` is the engine's).
OUTCOMES: frozenset[str] = frozenset(DIALOG_OUTCOMES)


class CollectMode(StrEnum):
    """What a listening state's keypad collects (``collect:``)."""

    DATE = "date"
    AMOUNT = "amount"
    BIRTH_YEAR = "birth_year"
    DOCUMENT_DIGITS = "document_digits"
    PERSON = "person"  # one key: which of the people on a shared number (1..n)
    REFERENCE = "reference"  # the caller's reference, digits then '#'

    @property
    def secret(self) -> bool:
        """A verification factor: the keys typed never reach the call's log."""
        return self in (CollectMode.BIRTH_YEAR, CollectMode.DOCUMENT_DIGITS)

    def may_start_entry(self, key: str) -> bool:
        """Whether an entry can begin with ``key``. A key bound in the state
        that cannot (a 5 where dates begin with the day's 0-3, a 0 where
        years begin with 1 or 2) is taken at once as that key's intent; one
        that can waits for '#' or a pause, and alone counts as its intent."""
        if self is CollectMode.DATE:
            return key in "0123"  # the day's first digit: 01-31
        if self is CollectMode.BIRTH_YEAR:
            return key in "12"  # 19xx, 20xx
        if self is CollectMode.PERSON:
            return key in "12345"  # a person's number in the list read out
        return key.isdigit()


class Failure(StrEnum):
    """Why a turn led nowhere; a re-ask policy has a list of steps per kind."""

    UNKNOWN = "unknown"  # heard, but no route matched
    SILENCE = "silence"  # nothing heard
    LOOP = "loop"  # the route led back to the same state


class FlowError(Exception):
    """The flow document is invalid; the message names the state and the culprit."""


# ---------------------------------------------------------------- do steps
# One class per kind of ``do`` step, so the conversation dispatches on types;
# the loader maps the document's names (``play``, ``end_call``...) onto them.


@dataclass(frozen=True)
class PlayPrompt:
    """``play: PROMPT``; ``barge_in: false`` lets nothing interrupt it."""

    prompt: str
    barge_in: bool = True


@dataclass(frozen=True)
class SetOutcome:
    """``outcome: NAME``, or ``default_outcome: NAME`` (``only_if_unset``):
    an outcome that does not replace one recorded earlier in the call."""

    outcome: str
    only_if_unset: bool = False


@dataclass(frozen=True)
class SavePromise:
    """``record_promise``: record the promise the caller made, if they made one."""


@dataclass(frozen=True)
class BookCallback:
    """``schedule_callback``; with ``any`` (``any_time``) the time the caller
    said is dropped and the next calling window is used."""

    any_time: bool = False


@dataclass(frozen=True)
class ChoosePlan:
    """``set_plan: full|installments``."""

    plan: str


@dataclass(frozen=True)
class Emit:
    """A step that only hands a fixed action to the service (``opt_out``,
    ``opt_out_number``, ``mark_wrong_number``, ``record_already_paid``,
    ``report_deceased``; ``send_payment_details``, which the conversation
    completes with the promises recorded in the call)."""

    action: (
        OptOut
        | OptOutNumber
        | MarkWrongNumber
        | RecordAlreadyPaid
        | ReportDeceased
        | SendPaymentDetails
    )


@dataclass(frozen=True)
class MarkVerified:
    """``mark_verified``: the person on the line met the campaign's verification
    policy; from here on the call may say what it is about (guard ``verified``)."""


@dataclass(frozen=True)
class SelectCaller:
    """``select_caller``: an inbound call speaks, from here on, as the person the
    caller chose (or the only one the number or reference names); it does not
    verify them."""


@dataclass(frozen=True)
class Finish:
    """``end_call: REASON`` or ``transfer: REASON``: the call leaves the flow;
    always a state's last step."""

    action: EndCall | TransferToAgent


StepAction = (
    PlayPrompt
    | SetOutcome
    | SavePromise
    | BookCallback
    | ChoosePlan
    | Emit
    | MarkVerified
    | SelectCaller
    | Finish
)


@dataclass(frozen=True)
class Step:
    """One entry of a state's ``do`` list: ``action`` runs if every guard in
    ``when`` holds and none in ``unless`` does."""

    action: StepAction
    when: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()

    @property
    def ends_call(self) -> bool:
        return isinstance(self.action, Finish)


# ---------------------------------------------------------------- re-ask steps


class Retry(Enum):
    """A re-ask step that stays in the state: ask again in other words, or
    offer the keypad (``reask`` / ``keypad`` in the document)."""

    REASK = "reask"
    KEYPAD = "keypad"


@dataclass(frozen=True)
class Goto:
    """A re-ask step that gives up on the state: ``{goto: STATE}``."""

    state: str


ReaskEntry = Retry | Goto

# ---------------------------------------------------------------- states and the flow


@dataclass(frozen=True)
class Route:
    """Go to ``target`` if every guard in ``when`` holds."""

    target: str
    when: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyBinding:
    """What one keypad key means in a state (with optional preset slots)."""

    intent: str
    days: int | None = None
    time: dt.time | None = None


@dataclass(frozen=True)
class ListenSpec:
    """How a state listens: the grammar context, how long, how many keys."""

    grammar: str
    timeout_s: float = 6.0
    max_digits: int = 1


@dataclass(frozen=True)
class State:
    """One state of the flow (see the header of ``flow.yaml``)."""

    name: str
    do: tuple[Step, ...] = ()
    ask: str | None = None
    listen: ListenSpec | None = None
    goto: str | None = None
    # A guarded ``goto`` (a list of routes): the first whose guards hold wins,
    # else ``goto`` (the list's last, unguarded route).
    goto_when: tuple[Route, ...] = ()
    keypad: Mapping[str, KeyBinding] = field(default_factory=dict)
    keypad_prompt: str | None = None
    collect: CollectMode | None = None
    slot_intent: str | None = None
    branches: str | None = None
    reask: str = "default"
    on: Mapping[str, tuple[Route, ...]] = field(default_factory=dict)

    @property
    def listens(self) -> bool:
        return self.listen is not None


@dataclass(frozen=True)
class Flow:
    """A validated call flow."""

    start: str
    on_machine: str
    states: Mapping[str, State]
    branch_sets: Mapping[str, Mapping[str, tuple[Route, ...]]]
    reask_policies: Mapping[str, Mapping[Failure, tuple[ReaskEntry, ...]]]
    min_confidence: float = 0.45
    min_asr_confidence: float = 0.3
    max_turns: int = 24
    on_max_turns: str = ""
    entry_points: frozenset[str] = frozenset()
    keypad_pause_s: float = 3.0
    on_inbound: str = ""  # where a call the person placed to us begins

    @classmethod
    def load(
        cls,
        path: Path | str = DEFAULT_FLOW,
        *,
        prompts_root: Path | None = None,
        locales: Iterable[str] | None = LOCALES,
    ) -> Flow:
        """See :func:`ivr.dialog.flow_loader.load_flow`."""
        from ivr.dialog.flow_loader import load_flow  # the loader builds this class

        return load_flow(path, prompts_root=prompts_root, locales=locales)

    @classmethod
    def from_mapping(cls, raw: Any, source: str = "flow") -> Flow:
        """See :func:`ivr.dialog.flow_loader.flow_from_mapping`."""
        from ivr.dialog.flow_loader import flow_from_mapping

        return flow_from_mapping(raw, source)

    def prompt_ids(self) -> frozenset[str]:
        """Every prompt id the flow can play."""
        ids: set[str] = set()
        for state in self.states.values():
            ids.update(s.action.prompt for s in state.do if isinstance(s.action, PlayPrompt))
            if state.ask:
                ids.add(state.ask)
            if state.keypad_prompt:
                ids.add(state.keypad_prompt)
        return frozenset(ids)

    def check_prompts(self, catalogs: Iterable[PromptCatalog]) -> None:
        """Raise :class:`FlowError` naming any prompt missing from a catalog."""
        missing = [
            f"'{pid}' ({cat.locale})"
            for cat in catalogs
            for pid in sorted(self.prompt_ids())
            if pid not in cat.prompts
        ]
        if missing:
            raise FlowError("flow plays unknown prompt id(s): " + ", ".join(missing))
