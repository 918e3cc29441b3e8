"""The actions a flow's ``do`` list may name, and how each becomes a typed step.

Kept apart from the document's structure (:mod:`ivr.dialog.flow_loader`)
because this is the flow's vocabulary: adding an action the conversation can
take means one line in :data:`STEPS` here, with the argument it accepts
checked at start-up rather than mid-call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from ivr.dialog.flow_guards import GUARDS
from ivr.dialog.flow_model import (
    OUTCOMES,
    BookCallback,
    ChoosePlan,
    Emit,
    Finish,
    FlowError,
    MarkVerified,
    PlayPrompt,
    SavePromise,
    SelectCaller,
    SetOutcome,
    Step,
    StepAction,
)

# What a do step's argument may be: none, any text, or one of a set of words.
_NONE = "none"
_TEXT = "text"
ArgSpec = str | frozenset[str]
#: do-step name -> (its argument, how the step is built from the argument and barge_in).
STEPS: dict[str, tuple[ArgSpec, Callable[[str, bool], StepAction]]] = {
    "play": (_TEXT, lambda arg, barge_in: PlayPrompt(arg, barge_in)),
    "outcome": (OUTCOMES, lambda arg, _: SetOutcome(arg)),
    "default_outcome": (OUTCOMES, lambda arg, _: SetOutcome(arg, only_if_unset=True)),
    "record_promise": (_NONE, lambda arg, _: SavePromise()),
    "record_already_paid": (_NONE, lambda arg, _: Emit(RecordAlreadyPaid())),
    "opt_out": (_NONE, lambda arg, _: Emit(OptOut())),
    "opt_out_number": (_NONE, lambda arg, _: Emit(OptOutNumber())),
    "mark_wrong_number": (_NONE, lambda arg, _: Emit(MarkWrongNumber())),
    "report_deceased": (_NONE, lambda arg, _: Emit(ReportDeceased())),
    "mark_verified": (_NONE, lambda arg, _: MarkVerified()),
    "select_caller": (_NONE, lambda arg, _: SelectCaller()),
    "send_payment_details": (_NONE, lambda arg, _: Emit(SendPaymentDetails())),
    "schedule_callback": (frozenset({"", "any"}), lambda arg, _: BookCallback(arg == "any")),
    "set_plan": (frozenset({"full", "installments"}), lambda arg, _: ChoosePlan(arg)),
    "transfer": (_TEXT, lambda arg, _: Finish(TransferToAgent(arg))),
    "end_call": (_TEXT, lambda arg, _: Finish(EndCall(arg))),
}


def parse_guards(value: Any, where: str) -> tuple[str, ...]:
    """A ``when``/``unless`` value (one name or a list) as guard names, each known."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FlowError(f"{where}: guards must be a name or a list of names")
    for name in names:
        if name not in GUARDS:
            raise FlowError(f"{where}: unknown guard '{name}'")
    return tuple(names)


def parse_step(raw: Any, where: str) -> tuple[str, Step]:
    """The step's name in the document (for messages) and the typed step.

    ``where`` names the step in messages, the flow file's name first.
    """
    if isinstance(raw, str):
        raw = {raw: None}
    if not isinstance(raw, dict):
        raise FlowError(f"{where}: a step is a name or a mapping")
    names = [k for k in raw if k not in ("when", "unless", "barge_in")]
    if len(names) != 1:
        raise FlowError(f"{where}: a step needs exactly one action, got {names}")
    action = str(names[0])
    if action not in STEPS:
        raise FlowError(f"{where}: unknown action '{action}'")
    kind, build = STEPS[action]
    value = raw[action]
    arg = "" if value is None else str(value)
    if kind == _NONE and arg:
        raise FlowError(f"{where}: action '{action}' takes no argument")
    if kind == _TEXT and not arg:
        raise FlowError(f"{where}: action '{action}' needs an argument")
    if isinstance(kind, frozenset) and arg not in kind:
        raise FlowError(f"{where}: action '{action}' does not accept {arg!r}")
    return action, Step(
        action=build(arg, bool(raw.get("barge_in", True))),
        when=parse_guards(raw.get("when", []), where),
        unless=parse_guards(raw.get("unless", []), where),
    )
