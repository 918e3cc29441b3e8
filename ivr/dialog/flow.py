"""The call flow's public names, gathered from the modules that hold them.

The flow is split by what each part is for: the validated model
(:mod:`~ivr.dialog.flow_model`), reading and checking ``flow.yaml``
(:mod:`~ivr.dialog.flow_yaml`, :mod:`~ivr.dialog.flow_loader`), the actions a
step may name (:mod:`~ivr.dialog.flow_steps`), the guards over the caller's
answers (:mod:`~ivr.dialog.flow_guards`), the values prompts speak
(:mod:`~ivr.dialog.prompt_values`), one caller turn
(:mod:`~ivr.dialog.caller_turn`) and one call's conversation
(:mod:`~ivr.dialog.conversation`). New code imports from those; this module
keeps ``ivr.dialog.flow`` working for code written against the single module.
"""

from ivr.dialog.caller_turn import NluResultLike, Understand
from ivr.dialog.conversation import Dialog
from ivr.dialog.flow_guards import GUARDS, CallerAnswers, installment_cents
from ivr.dialog.flow_loader import load_flow
from ivr.dialog.flow_model import (
    DEFAULT_FLOW,
    ENGINE_INTENTS,
    GRAMMARS,
    INTENTS,
    NLU_INTENTS,
    OUTCOMES,
    Flow,
    FlowError,
    KeyBinding,
    ListenSpec,
    Route,
    State,
    Step,
)
from ivr.dialog.flow_yaml import parse_yaml
from ivr.dialog.prompt_values import base_variables, call_variables, personal_prompts, say_phone

__all__ = [
    "DEFAULT_FLOW",
    "ENGINE_INTENTS",
    "GRAMMARS",
    "GUARDS",
    "INTENTS",
    "NLU_INTENTS",
    "OUTCOMES",
    "CallerAnswers",
    "Dialog",
    "Flow",
    "FlowError",
    "KeyBinding",
    "ListenSpec",
    "NluResultLike",
    "Route",
    "State",
    "Step",
    "Understand",
    "base_variables",
    "call_variables",
    "installment_cents",
    "load_flow",
    "parse_yaml",
    "personal_prompts",
    "say_phone",
]
