"""The call flow engine: runs the declarative states of ``flow.yaml``.

The flow is data so that wording, order and branches can be reviewed (and
changed) without reading code; this module only knows how to walk it. It takes
:mod:`ivr.dialog.events` events and returns actions, so every branch is tested
with events alone. Loading validates the whole document up front: a typo in a
state name, an action, a guard or a prompt id stops the service at start-up
with the name of the culprit rather than mid-call.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import yaml

from ivr.dialog import nlu_intents
from ivr.dialog.events import (
    Action,
    CallAnswered,
    CallContext,
    Digits,
    EndCall,
    Event,
    Hangup,
    Listen,
    LogTurn,
    MachineAnswered,
    MarkWrongNumber,
    OptOut,
    Play,
    PromptDone,
    RecordAlreadyPaid,
    RecordOutcome,
    RecordPromise,
    ScheduleCallback,
    Silence,
    Speech,
    Transfer,
)
from ivr.dialog.grammars import CONTEXTS
from ivr.dialog.prompts import (
    LOCALES,
    PERSONAL_PLACEHOLDERS,
    PromptCatalog,
    PromptError,
    load_catalogs,
)

DEFAULT_FLOW = Path(__file__).with_name("flow.yaml")

#: Intents the language understanding produces (a contract with ``nlu.py``).
NLU_INTENTS: frozenset[str] = frozenset(nlu_intents.INTENTS)
#: Intents the engine itself derives from keypad checks.
ENGINE_INTENTS: frozenset[str] = frozenset({"verified", "not_verified"})
INTENTS: frozenset[str] = NLU_INTENTS | ENGINE_INTENTS

#: Listening contexts (grammar names), a contract with ``grammars/``.
GRAMMARS: frozenset[str] = frozenset(CONTEXTS)
OUTCOMES: frozenset[str] = frozenset(
    {
        "right_party",
        "promise",
        "refused",
        "callback",
        "opt_out",
        "wrong_party",
        "agent",
        "voicemail",
        "no_contact",
        "already_paid",
    }
)
COLLECT_MODES: frozenset[str] = frozenset({"date", "amount", "birth_year"})
FAILURE_KINDS: frozenset[str] = frozenset({"unknown", "silence", "loop"})
TERMINAL_ACTIONS: frozenset[str] = frozenset({"end_call", "transfer"})
#: do-step name -> what its argument is ("none", "text", or a set of allowed values).
STEP_ARGS: dict[str, str | frozenset[str]] = {
    "play": "prompt",
    "outcome": OUTCOMES,
    "default_outcome": OUTCOMES,
    "record_promise": "none",
    "record_already_paid": "none",
    "opt_out": "none",
    "mark_wrong_number": "none",
    "schedule_callback": frozenset({"", "any"}),
    "set_plan": frozenset({"full", "installments"}),
    "transfer": "text",
    "end_call": "text",
}
_STATE_KEYS = frozenset(
    {
        "ask",
        "listen",
        "do",
        "goto",
        "keypad",
        "keypad_prompt",
        "collect",
        "slot_intent",
        "branches",
        "reask",
        "on",
    }
)
_TOP_KEYS = frozenset(
    {
        "version",
        "start",
        "on_machine",
        "min_confidence",
        "min_asr_confidence",
        "max_turns",
        "on_max_turns",
        "entry_points",
        "reask_policies",
        "branch_sets",
        "states",
    }
)
_KEYS = frozenset("0123456789*#")


class FlowError(Exception):
    """The flow document is invalid; the message names the state and the culprit."""


class NluResultLike(Protocol):
    """What the dialog reads from a language-understanding result."""

    @property
    def intent(self) -> str: ...
    @property
    def date(self) -> dt.date | None: ...
    @property
    def amount_cents(self) -> int | None: ...
    @property
    def fraction(self) -> float | None: ...
    @property
    def time(self) -> dt.time | None: ...
    @property
    def confidence(self) -> float: ...


Understand = Callable[..., NluResultLike]

# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class Step:
    """One entry of a state's ``do`` list."""

    action: str
    arg: str = ""
    when: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    barge_in: bool = True


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
    keypad: Mapping[str, KeyBinding] = field(default_factory=dict)
    keypad_prompt: str | None = None
    collect: str | None = None
    slot_intent: str | None = None
    branches: str | None = None
    reask: str = "default"
    on: Mapping[str, tuple[Route, ...]] = field(default_factory=dict)

    @property
    def listens(self) -> bool:
        return self.listen is not None


ReaskEntry = str  # "reask", "keypad" or "goto:<state>"


@dataclass(frozen=True)
class Flow:
    """A validated call flow."""

    start: str
    on_machine: str
    states: Mapping[str, State]
    branch_sets: Mapping[str, Mapping[str, tuple[Route, ...]]]
    reask_policies: Mapping[str, Mapping[str, tuple[ReaskEntry, ...]]]
    min_confidence: float = 0.45
    min_asr_confidence: float = 0.3
    max_turns: int = 24
    on_max_turns: str = ""
    entry_points: frozenset[str] = frozenset()

    @classmethod
    def load(
        cls,
        path: Path | str = DEFAULT_FLOW,
        *,
        prompts_root: Path | None = None,
        locales: Iterable[str] | None = LOCALES,
    ) -> Flow:
        """Parse and validate ``path``; with ``locales`` (the default) also check
        that every prompt the flow plays exists in those locales' catalogs."""
        source = Path(path)
        try:
            raw = parse_yaml(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FlowError(f"flow file {source} is missing") from None
        except yaml.YAMLError as exc:
            raise FlowError(f"{source}: not valid YAML ({exc})") from None
        flow = cls.from_mapping(raw, source=source.name)
        if locales is not None:
            flow.check_prompts(load_catalogs(prompts_root, locales).values())
        return flow

    @classmethod
    def from_mapping(cls, raw: Any, source: str = "flow") -> Flow:
        """Build and validate a flow from an already parsed document."""
        return _Parser(source).parse(raw)

    def prompt_ids(self) -> frozenset[str]:
        """Every prompt id the flow can play."""
        ids: set[str] = set()
        for state in self.states.values():
            ids.update(s.arg for s in state.do if s.action == "play")
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


# ---------------------------------------------------------------- parsing


class _Loader(yaml.SafeLoader):
    """YAML without the 1.1 booleans yes/no/on/off: in a call flow ``yes``, ``no``
    and ``on`` are intents and keys, not True/False."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _no_duplicate_keys(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Any:
    """A key written twice would silently drop a branch: refuse it."""
    seen: set[Any] = set()
    for key_node, _value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # "<<: *base" merges; the keys written here override it
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise FlowError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=deep))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)


def parse_yaml(text: str) -> Any:
    """Parse a flow document (``yes``/``no``/``on`` stay strings)."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass


def _guards(value: Any, where: str) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FlowError(f"{where}: guards must be a name or a list of names")
    for name in names:
        if name not in GUARDS:
            raise FlowError(f"{where}: unknown guard '{name}'")
    return tuple(names)


class _Parser:
    """Turns the YAML document into a :class:`Flow`, collecting no partial state."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, message: str) -> FlowError:
        return FlowError(f"{self.source}: {message}")

    def parse(self, raw: Any) -> Flow:
        if not isinstance(raw, dict):
            raise self.fail("expected a mapping at the top level")
        unknown = set(raw) - _TOP_KEYS
        if unknown:
            raise self.fail(f"unknown top-level key(s): {', '.join(sorted(map(str, unknown)))}")
        states_raw = raw.get("states")
        if not isinstance(states_raw, dict) or not states_raw:
            raise self.fail("'states' must be a non-empty mapping")
        self.state_names = {str(n) for n in states_raw}
        policies = self._policies(raw.get("reask_policies") or {})
        self.policy_names = set(policies)
        branch_sets = {
            str(name): self._routes_map(routes, f"branch set '{name}'")
            for name, routes in (raw.get("branch_sets") or {}).items()
        }
        self.branch_names = set(branch_sets)
        states = {str(n): self._state(str(n), body) for n, body in states_raw.items()}
        start = self._target(raw.get("start"), "start")
        on_machine = self._target(raw.get("on_machine"), "on_machine")
        on_max = self._target(raw.get("on_max_turns", start), "on_max_turns")
        flow = Flow(
            start=start,
            on_machine=on_machine,
            states=states,
            branch_sets=branch_sets,
            reask_policies=policies,
            min_confidence=float(raw.get("min_confidence", 0.45)),
            min_asr_confidence=float(raw.get("min_asr_confidence", 0.3)),
            max_turns=int(raw.get("max_turns", 24)),
            on_max_turns=on_max,
            entry_points=frozenset(
                self._target(n, "entry_points") for n in raw.get("entry_points") or []
            ),
        )
        self._check_chains(flow)
        return flow

    def _target(self, name: Any, where: str) -> str:
        if not isinstance(name, str) or name not in self.state_names:
            raise self.fail(f"{where}: unknown state '{name}'")
        return name

    def _policies(self, raw: Any) -> dict[str, dict[str, tuple[ReaskEntry, ...]]]:
        if not isinstance(raw, dict) or "default" not in raw:
            raise self.fail("'reask_policies' must be a mapping with a 'default' policy")
        out: dict[str, dict[str, tuple[ReaskEntry, ...]]] = {}
        for name, kinds in raw.items():
            where = f"reask policy '{name}'"
            if not isinstance(kinds, dict) or "unknown" not in kinds:
                raise self.fail(f"{where}: needs at least an 'unknown' list")
            policy: dict[str, tuple[ReaskEntry, ...]] = {}
            for kind, entries in kinds.items():
                if kind not in FAILURE_KINDS:
                    raise self.fail(f"{where}: unknown failure kind '{kind}'")
                if not isinstance(entries, list) or not entries:
                    raise self.fail(f"{where}.{kind}: expected a non-empty list")
                policy[kind] = tuple(self._reask_entry(e, f"{where}.{kind}") for e in entries)
            out[str(name)] = policy
        return out

    def _reask_entry(self, entry: Any, where: str) -> ReaskEntry:
        if entry in ("reask", "keypad"):
            return str(entry)
        if isinstance(entry, dict) and set(entry) == {"goto"}:
            return "goto:" + self._target(entry["goto"], where)
        raise self.fail(f"{where}: unknown re-ask step {entry!r} (reask, keypad or goto)")

    def _routes_map(self, raw: Any, where: str) -> dict[str, tuple[Route, ...]]:
        if not isinstance(raw, dict):
            raise self.fail(f"{where}: expected a mapping of intent -> routes")
        out: dict[str, tuple[Route, ...]] = {}
        for intent, value in raw.items():
            if intent not in INTENTS:
                raise self.fail(f"{where}: unknown intent '{intent}'")
            out[str(intent)] = self._routes(value, f"{where}, on {intent}")
        return out

    def _routes(self, value: Any, where: str) -> tuple[Route, ...]:
        if isinstance(value, str):
            return (Route(self._target(value, where)),)
        if not isinstance(value, list) or not value:
            raise self.fail(f"{where}: expected a state or a list of routes")
        routes = []
        for item in value:
            if not isinstance(item, dict) or "goto" not in item or set(item) - {"goto", "when"}:
                raise self.fail(f"{where}: a route is {{when: guard(s), goto: state}}")
            when = _guards(item.get("when", []), f"{self.source}: {where}")
            routes.append(Route(self._target(item["goto"], where), when))
        return tuple(routes)

    def _step(self, raw: Any, where: str) -> Step:
        if isinstance(raw, str):
            raw = {raw: None}
        if not isinstance(raw, dict):
            raise self.fail(f"{where}: a step is a name or a mapping")
        names = [k for k in raw if k not in ("when", "unless", "barge_in")]
        if len(names) != 1:
            raise self.fail(f"{where}: a step needs exactly one action, got {names}")
        action = str(names[0])
        if action not in STEP_ARGS:
            raise self.fail(f"{where}: unknown action '{action}'")
        kind = STEP_ARGS[action]
        value = raw[action]
        arg = "" if value is None else str(value)
        if kind == "none" and arg:
            raise self.fail(f"{where}: action '{action}' takes no argument")
        if kind in ("prompt", "text") and not arg:
            raise self.fail(f"{where}: action '{action}' needs an argument")
        if isinstance(kind, frozenset) and arg not in kind:
            raise self.fail(f"{where}: action '{action}' does not accept {arg!r}")
        return Step(
            action=action,
            arg=arg,
            when=_guards(raw.get("when", []), f"{self.source}: {where}"),
            unless=_guards(raw.get("unless", []), f"{self.source}: {where}"),
            barge_in=bool(raw.get("barge_in", True)),
        )

    def _keypad(self, raw: Any, where: str, collect: str | None) -> dict[str, KeyBinding]:
        if not isinstance(raw, dict):
            raise self.fail(f"{where}: keypad must map keys to intents")
        out: dict[str, KeyBinding] = {}
        for key, value in raw.items():
            key = str(key)
            if len(key) != 1 or key not in _KEYS:
                raise self.fail(f"{where}: keypad key {key!r} must be one of 0-9, * or #")
            if collect and key != "*":
                raise self.fail(f"{where}: a collecting state may only bind '*' (got {key!r})")
            spec = {"intent": value} if isinstance(value, str) else value
            if not isinstance(spec, dict) or set(spec) - {"intent", "days", "time"}:
                raise self.fail(f"{where}: keypad {key!r}: expected an intent or {{intent, ...}}")
            intent = spec.get("intent")
            if intent not in INTENTS:
                raise self.fail(f"{where}: keypad {key!r}: unknown intent '{intent}'")
            at = spec.get("time")
            try:
                parsed = dt.time.fromisoformat(str(at)) if at is not None else None
            except ValueError:
                raise self.fail(f"{where}: keypad {key!r}: bad time {at!r}") from None
            days = spec.get("days")
            out[key] = KeyBinding(str(intent), int(days) if days is not None else None, parsed)
        return out

    def _state(self, name: str, body: Any) -> State:
        where = f"state '{name}'"
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise self.fail(f"{where}: expected a mapping")
        unknown = set(body) - _STATE_KEYS
        if unknown:
            raise self.fail(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        steps = tuple(self._step(s, f"{where}, do[{i}]") for i, s in enumerate(body.get("do", [])))
        for i, step in enumerate(steps):
            if step.action in TERMINAL_ACTIONS and i != len(steps) - 1:
                raise self.fail(f"{where}: '{step.action}' must be the last step")
        listen = None
        if "listen" in body:
            spec = body["listen"]
            if not isinstance(spec, dict) or spec.get("grammar") not in GRAMMARS:
                grammar = spec.get("grammar") if isinstance(spec, dict) else spec
                raise self.fail(f"{where}: unknown grammar '{grammar}'")
            listen = ListenSpec(
                grammar=str(spec["grammar"]),
                timeout_s=float(spec.get("timeout_s", 6.0)),
                max_digits=int(spec.get("max_digits", 1)),
            )
            if listen.timeout_s <= 0 or listen.max_digits < 1:
                raise self.fail(f"{where}: timeout_s must be > 0 and max_digits >= 1")
        ask = body.get("ask")
        if (ask is None) != (listen is None):
            raise self.fail(f"{where}: 'ask' and 'listen' go together")
        goto = body.get("goto")
        if goto is not None:
            goto = self._target(goto, f"{where}, goto")
            if listen is not None:
                raise self.fail(f"{where}: a listening state cannot also 'goto'")
        terminal = bool(steps) and steps[-1].action in TERMINAL_ACTIONS
        if terminal and (steps[-1].when or steps[-1].unless):
            raise self.fail(f"{where}: the final '{steps[-1].action}' cannot have a guard")
        if listen is None and goto is None and not terminal:
            raise self.fail(f"{where}: needs 'ask'+'listen', a 'goto', or end_call/transfer")
        if terminal and (listen is not None or goto is not None):
            raise self.fail(f"{where}: ends the call, so it cannot listen or 'goto'")
        collect = body.get("collect")
        if collect is not None and collect not in COLLECT_MODES:
            raise self.fail(f"{where}: unknown collect mode '{collect}'")
        if collect is not None and listen is None:
            raise self.fail(f"{where}: 'collect' needs 'listen'")
        slot_intent = body.get("slot_intent")
        if slot_intent is not None and slot_intent not in INTENTS:
            raise self.fail(f"{where}: unknown slot_intent '{slot_intent}'")
        branches = body.get("branches")
        if branches is not None and branches not in self.branch_names:
            raise self.fail(f"{where}: unknown branch set '{branches}'")
        reask = body.get("reask", "default")
        if reask not in self.policy_names:
            raise self.fail(f"{where}: unknown reask policy '{reask}'")
        return State(
            name=name,
            do=steps,
            ask=str(ask) if ask is not None else None,
            listen=listen,
            goto=goto,
            keypad=self._keypad(body.get("keypad", {}), where, collect),
            keypad_prompt=body.get("keypad_prompt"),
            collect=collect,
            slot_intent=slot_intent,
            branches=branches,
            reask=str(reask),
            on=self._routes_map(body.get("on", {}), where),
        )

    def _check_chains(self, flow: Flow) -> None:
        """Action-only states must reach a listening or ending state, not loop."""
        for name in flow.states:
            seen: list[str] = []
            current: str | None = name
            while current is not None and not flow.states[current].listens:
                if current in seen:
                    raise self.fail(f"states loop without listening: {' -> '.join(seen)}")
                seen.append(current)
                current = flow.states[current].goto


# ---------------------------------------------------------------- guards


@dataclass
class Slots:
    """What the caller told us during this call."""

    promise_date: dt.date | None = None
    promise_amount_cents: int | None = None
    plan: str = "full"
    callback_date: dt.date | None = None
    callback_time: dt.time | None = None


def _latest(ctx: CallContext) -> dt.date:
    return ctx.today + dt.timedelta(days=ctx.max_promise_days)


GUARDS: dict[str, Callable[[CallContext, Slots], bool]] = {
    "first_contact": lambda c, s: c.first_contact,
    "has_birth_year": lambda c, s: c.birth_year is not None,
    "installments_available": lambda c, s: c.installments >= 2,
    "installment_plan": lambda c, s: s.plan == "installments",
    "promise_date_past": lambda c, s: s.promise_date is not None and s.promise_date < c.today,
    "promise_date_too_far": lambda c, s: s.promise_date is not None and s.promise_date > _latest(c),
    "promise_date_ok": lambda c, s: (
        s.promise_date is not None and c.today <= s.promise_date <= _latest(c)
    ),
    "has_callback_time": lambda c, s: s.callback_date is not None or s.callback_time is not None,
}

# ---------------------------------------------------------------- speakable values


def installment_cents(ctx: CallContext) -> int:
    """One installment, rounded up so the installments cover the whole amount."""
    return math.ceil(ctx.amount_cents / max(ctx.installments, 1))


def say_phone(number: str, locale: str) -> str:
    """A phone number read digit by digit in its national groups ("0 8 0 0, 1 2 3")."""
    import phonenumbers

    region = locale.split("-")[-1]
    text = number
    try:
        parsed = phonenumbers.parse(number, region)
        text = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        pass
    groups = ["".join(ch for ch in part if ch.isdigit()) for part in text.replace("-", " ").split()]
    return ", ".join(" ".join(g) for g in groups if g)


def base_variables(ctx: CallContext) -> dict[str, str]:
    """Every placeholder value known before the call is dialed."""
    from ivr.dialog.speakable import say_amount, say_date

    loc = ctx.locale
    return {
        "first_name": ctx.first_name,
        "company": ctx.company,
        "creditor": ctx.creditor,
        "amount": say_amount(ctx.amount_cents, ctx.currency, loc),
        "due_date": say_date(ctx.due_date, loc, ctx.today),
        "callback_number": say_phone(ctx.callback_number, loc),
        "installment_amount": say_amount(installment_cents(ctx), ctx.currency, loc),
        "installments": str(ctx.installments),
        "latest_date": say_date(_latest(ctx), loc, ctx.today),
    }


def personal_prompts(
    ctx: CallContext, flow: Flow, catalog: PromptCatalog
) -> list[tuple[str, str, int]]:
    """(prompt_id, text, variant) of every prompt this call may play that carries
    personal data and can be rendered before dialing, so the service synthesizes
    them ahead and answering never waits for speech synthesis. Prompts without
    personal data are shared by all calls and cached by text elsewhere."""
    values = base_variables(ctx)
    out: list[tuple[str, str, int]] = []
    for prompt_id in sorted(flow.prompt_ids()):
        names = catalog.placeholders(prompt_id)
        if not names & PERSONAL_PLACEHOLDERS or not names <= set(values):
            continue
        for variant in range(catalog.variants(prompt_id)):
            out.append((prompt_id, catalog.render(prompt_id, values, variant), variant))
    return out


# ---------------------------------------------------------------- the dialog


@dataclass(frozen=True)
class _Input:
    """One caller answer, reduced to what routing needs."""

    intent: str
    date: dt.date | None = None
    amount_cents: int | None = None
    fraction: float | None = None
    time: dt.time | None = None
    days: int | None = None


class Dialog:
    """One call's conversation: feed it events, execute the actions it returns."""

    def __init__(
        self,
        ctx: CallContext,
        flow: Flow,
        catalog: PromptCatalog,
        understand: Understand | None = None,
    ) -> None:
        if understand is None:
            from ivr.dialog.nlu import understand as real_understand

            understand = real_understand
        self.ctx = ctx
        self.flow = flow
        self.catalog = catalog
        self._understand = understand
        self._base = base_variables(ctx)
        self.slots = Slots()
        self._state = ""
        self._outcome: str | None = None
        self._finished = False
        self._started = False
        self._heard_caller = False
        self._plays = 0
        self._turns = 0
        self._failures = 0
        self._keypad_plays = 0
        self._ask_variant = 0
        self._digits = ""
        self._entry_plays: list[tuple[str, bool]] = []
        self.pending_plays: set[str] = set()

    # -- public state ---------------------------------------------------------------

    @property
    def state(self) -> str:
        """The current state name ("" before :meth:`start`)."""
        return self._state

    @property
    def outcome(self) -> str | None:
        """The latest outcome recorded in this call."""
        return self._outcome

    @property
    def finished(self) -> bool:
        """True once the call ended, was transferred, or hung up."""
        return self._finished

    def rendered_text(self, play: Play) -> str:
        """The exact text of ``play``, for synthesis and the call log."""
        return self.catalog.render(play.prompt_id, play.variables, play.variant)

    # -- events ---------------------------------------------------------------------

    def start(self, event: CallAnswered | MachineAnswered) -> list[Action]:
        """Begin the call: greet a person, or leave a limited message on a machine."""
        if self._started:
            raise RuntimeError("dialog already started")
        self._started = True
        actions: list[Action] = []
        target = self.flow.on_machine if isinstance(event, MachineAnswered) else self.flow.start
        self._enter(target, actions)
        return actions

    def resume(self, state: str) -> list[Action]:
        """Re-open the conversation at one of the flow's ``entry_points``, e.g.
        ``queue_offer_callback`` when the caller has waited long for an agent."""
        if state not in self.flow.entry_points:
            raise ValueError(f"'{state}' is not an entry point of the flow")
        self._started = True
        self._finished = False
        self._turns = 0
        actions: list[Action] = []
        self._enter(state, actions)
        return actions

    def handle(self, event: Event) -> list[Action]:
        """React to one event; returns the actions to run, in order."""
        if not self._started:
            raise RuntimeError("call start() first")
        if isinstance(event, PromptDone):
            self.pending_plays.discard(event.play_id)
            return []
        if self._finished or isinstance(event, CallAnswered):
            return []
        actions: list[Action] = []
        if isinstance(event, Hangup):
            self._finished = True
            actions.append(LogTurn("hangup", {"state": self._state}))
            if self._outcome is None:
                self._set_outcome("no_contact", actions)
            return actions
        if isinstance(event, MachineAnswered):
            # Detection can arrive after the greeting started; until somebody
            # answered, a machine gets only the limited message.
            if not self._heard_caller:
                self._enter(self.flow.on_machine, actions)
            return actions
        state = self.flow.states[self._state]
        if isinstance(event, Speech):
            if not event.final:
                return []  # a partial only interrupts audio; the transport clears it
            if not event.text.strip():
                return self._turn(actions, None, LogTurn("silence", {"state": self._state}))
            self._heard_caller = True
            self._digits = ""
            return self._speech(state, event, actions)
        if isinstance(event, Digits):
            self._heard_caller = True
            return self._keys(state, event.digits, actions)
        if isinstance(event, Silence):
            if self._digits and state.collect:
                entry, self._digits = self._digits, ""
                log = LogTurn("dtmf", {"state": self._state, "digits": entry, "complete": True})
                return self._turn(actions, self._collected(state, entry), log)
            return self._turn(actions, None, LogTurn("silence", {"state": self._state}))
        return actions

    # -- understanding ------------------------------------------------------------------

    def _speech(self, state: State, event: Speech, actions: list[Action]) -> list[Action]:
        grammar = state.listen.grammar if state.listen else None
        result = self._understand(event.text, self.ctx.locale, self.ctx.today, context=grammar)
        intent = result.intent if result.intent in INTENTS else "unknown"
        if (
            result.confidence < self.flow.min_confidence
            or event.confidence < self.flow.min_asr_confidence
        ):
            intent = "unknown"
        answer = _Input(intent, result.date, result.amount_cents, result.fraction, result.time)
        log = LogTurn(
            "speech",
            {
                "state": self._state,
                "text": event.text,
                "confidence": event.confidence,
                "intent": intent,
                "nlu_intent": result.intent,
                "nlu_confidence": result.confidence,
                "date": result.date.isoformat() if result.date else None,
                "amount_cents": result.amount_cents,
                "time": result.time.isoformat() if result.time else None,
            },
        )
        return self._turn(actions, answer, log)

    def _keys(self, state: State, digits: str, actions: list[Action]) -> list[Action]:
        if not state.listens:
            return actions
        if not state.collect:
            key = digits[:1]
            binding = state.keypad.get(key)
            answer = (
                _Input(binding.intent, time=binding.time, days=binding.days)
                if binding
                else _Input("unknown")
            )
            log = LogTurn("dtmf", {"state": self._state, "digits": digits, "intent": answer.intent})
            return self._turn(actions, answer, log)
        limit = state.listen.max_digits if state.listen else 1
        for ch in digits:
            if ch == "*" and "*" in state.keypad:
                self._digits = ""
                binding = state.keypad["*"]
                log = LogTurn(
                    "dtmf", {"state": self._state, "digits": "*", "intent": binding.intent}
                )
                return self._turn(actions, _Input(binding.intent), log)
            if ch == "#" or (ch.isdigit() and len(self._digits) + 1 >= limit):
                entry = self._digits + (ch if ch.isdigit() else "")
                self._digits = ""
                log = LogTurn("dtmf", {"state": self._state, "digits": entry, "complete": True})
                return self._turn(actions, self._collected(state, entry), log)
            if ch.isdigit():
                self._digits += ch
        actions.append(LogTurn("dtmf", {"state": self._state, "digits": digits, "complete": False}))
        return actions

    def _collected(self, state: State, entry: str) -> _Input:
        """Turn a complete keypad entry into an answer, by the state's collect mode."""
        from ivr.dialog.nlu import parse_keypad_amount, parse_keypad_date

        if state.collect == "date":
            day = parse_keypad_date(entry, self.ctx.today) if entry else None
            return _Input("promise", date=day) if day else _Input("unknown")
        if state.collect == "amount":
            cents = parse_keypad_amount(entry) if entry else None
            return _Input("promise", amount_cents=cents) if cents else _Input("unknown")
        if state.collect == "birth_year":
            ok = self.ctx.birth_year is not None and entry == str(self.ctx.birth_year)
            return _Input("verified" if ok else "not_verified")
        return _Input("unknown")

    # -- routing ------------------------------------------------------------------------

    def _turn(self, actions: list[Action], answer: _Input | None, log: LogTurn) -> list[Action]:
        """Route one caller turn (``None`` = silence) from the current state."""
        actions.append(log)
        state = self.flow.states[self._state]
        self._turns += 1
        if self._turns > self.flow.max_turns:
            self._enter(self.flow.on_max_turns, actions)
            return actions
        if answer is None:
            self._fail(state, "silence", actions)
            return actions
        if answer.intent == "repeat":
            self._repeat(state, actions)
            return actions
        answer = self._with_slot_intent(state, answer)
        # Guards see what this answer would add; it is kept only if it leads
        # somewhere, so a misheard number never turns into a promised amount.
        slots = self._remember(answer, replace(self.slots))
        routes = state.on.get(answer.intent)
        if routes is None and state.branches:
            routes = self.flow.branch_sets[state.branches].get(answer.intent)
        target = next(
            (r.target for r in routes or () if all(GUARDS[g](self.ctx, slots) for g in r.when)),
            None,
        )
        if target is None:
            self._fail(state, "unknown", actions)
            return actions
        self.slots = slots
        if target == self._state:
            self._fail(state, "loop", actions)
        else:
            self._enter(target, actions)
        return actions

    def _with_slot_intent(self, state: State, answer: _Input) -> _Input:
        has_slot = answer.date or answer.time or answer.amount_cents or answer.fraction
        if state.slot_intent and has_slot and answer.intent in ("unknown", "yes", "promise"):
            return _Input(
                state.slot_intent,
                answer.date,
                answer.amount_cents,
                answer.fraction,
                answer.time,
                answer.days,
            )
        return answer

    def _remember(self, answer: _Input, slots: Slots) -> Slots:
        """``slots`` with the dates, amounts and times of ``answer`` added."""
        if answer.intent == "promise":
            if answer.date is not None:
                slots.promise_date = answer.date
            if answer.amount_cents:
                slots.promise_amount_cents = answer.amount_cents
            elif answer.fraction:
                slots.promise_amount_cents = round(self.ctx.amount_cents * answer.fraction)
        elif answer.intent == "callback":
            day = answer.date
            if answer.days is not None:
                day = self.ctx.today + dt.timedelta(days=answer.days)
            slots.callback_date = day
            slots.callback_time = answer.time
        return slots

    def _fail(self, state: State, kind: str, actions: list[Action]) -> None:
        """Nothing usable was heard: other words, then the keypad, then give up."""
        self._failures += 1
        policy = self.flow.reask_policies[state.reask]
        entries = policy.get(kind) or policy["unknown"]
        entry = entries[min(self._failures, len(entries)) - 1]
        if entry.startswith("goto:"):
            self._enter(entry.removeprefix("goto:"), actions)
            return
        if entry == "keypad" and state.keypad_prompt:
            actions.append(self._play(state.keypad_prompt, self._keypad_plays))
            self._keypad_plays += 1
        else:
            self._ask_variant = self._failures
            actions.append(self._play(state.ask or "", self._ask_variant))
        actions.append(self._listen(state))

    def _repeat(self, state: State, actions: list[Action]) -> None:
        for prompt_id, barge_in in self._entry_plays:
            actions.append(self._play(prompt_id, 0, barge_in))
        if state.ask:
            actions.append(self._play(state.ask, self._ask_variant))
            actions.append(self._listen(state))

    # -- entering states ----------------------------------------------------------------

    def _enter(self, name: str, actions: list[Action]) -> None:
        """Run ``name``'s steps, follow ``goto`` hops, then ask (if it listens)."""
        self._entry_plays = []  # what "repeat" says again: everything up to the question
        while True:
            state = self.flow.states[name]
            self._state = name
            self._failures = 0
            self._keypad_plays = 0
            self._ask_variant = 0
            self._digits = ""
            for step in state.do:
                if all(GUARDS[g](self.ctx, self.slots) for g in step.when) and not any(
                    GUARDS[g](self.ctx, self.slots) for g in step.unless
                ):
                    self._run(step, actions)
            if self._finished or state.listen is not None or state.goto is None:
                break
            name = state.goto
        if not self._finished and state.ask:
            actions.append(self._play(state.ask, 0))
            actions.append(self._listen(state))

    def _run(self, step: Step, actions: list[Action]) -> None:
        match step.action:
            case "play":
                actions.append(self._play(step.arg, 0, step.barge_in))
                self._entry_plays.append((step.arg, step.barge_in))
            case "outcome":
                self._set_outcome(step.arg, actions)
            case "default_outcome":
                if self._outcome is None:
                    self._set_outcome(step.arg, actions)
            case "record_promise":
                if self.slots.promise_date is not None:
                    actions.append(RecordPromise(self.slots.promise_date, self._promise_cents()))
            case "record_already_paid":
                actions.append(RecordAlreadyPaid())
            case "opt_out":
                actions.append(OptOut())
            case "mark_wrong_number":
                actions.append(MarkWrongNumber())
            case "schedule_callback":
                if step.arg == "any":
                    self.slots.callback_date = self.slots.callback_time = None
                actions.append(ScheduleCallback(self._callback_at()))
            case "set_plan":
                self.slots.plan = step.arg
            case "transfer":
                actions.append(Transfer(step.arg))
                self._finished = True
            case "end_call":
                actions.append(EndCall(step.arg))
                self._finished = True

    def _set_outcome(self, outcome: str, actions: list[Action]) -> None:
        self._outcome = outcome
        actions.append(RecordOutcome(outcome))

    # -- values -------------------------------------------------------------------------

    def _promise_cents(self) -> int:
        if self.slots.plan == "installments":
            return installment_cents(self.ctx)
        wanted = self.slots.promise_amount_cents
        if not wanted or wanted <= 0:
            return self.ctx.amount_cents
        return min(wanted, self.ctx.amount_cents)

    def _callback_at(self) -> dt.datetime | None:
        day, at = self.slots.callback_date, self.slots.callback_time
        if day is None and at is None:
            return None
        return dt.datetime.combine(day or self.ctx.today, at or dt.time(0, 0))

    def variables(self) -> dict[str, str]:
        """Every placeholder value available right now, as speakable text."""
        from ivr.dialog.speakable import say_amount, say_date, say_time

        values = dict(self._base)
        loc = self.ctx.locale
        if self.slots.promise_date is not None:
            values["promise_date"] = say_date(self.slots.promise_date, loc, self.ctx.today)
            values["promise_amount"] = say_amount(self._promise_cents(), self.ctx.currency, loc)
        day, at = self.slots.callback_date, self.slots.callback_time
        if day is not None or at is not None:
            parts = [say_date(day or self.ctx.today, loc, self.ctx.today)]
            if at is not None:
                parts.append(say_time(at, loc))
            values["callback_when"] = ", ".join(parts)
        return values

    def _play(self, prompt_id: str, variant: int, barge_in: bool = True) -> Play:
        self._plays += 1
        names = self.catalog.placeholders(prompt_id)
        values = self.variables()
        missing = names - set(values)
        if missing:
            raise PromptError(f"prompt '{prompt_id}' needs {sorted(missing)} in {self._state}")
        play = Play(
            prompt_id=prompt_id,
            variables={k: values[k] for k in sorted(names)},
            variant=variant,
            barge_in=barge_in,
            play_id=f"p{self._plays}-{prompt_id}",
        )
        self.pending_plays.add(play.play_id)
        return play

    def _listen(self, state: State) -> Listen:
        spec = state.listen or ListenSpec(grammar="yes_no")
        return Listen(grammar=spec.grammar, timeout_s=spec.timeout_s, max_digits=spec.max_digits)
