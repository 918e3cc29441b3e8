"""Reading ``flow.yaml`` into a validated :class:`~ivr.dialog.flow_model.Flow`.

Loading validates the whole document up front: a typo in a state name, an
action, a guard or a prompt id stops the service at start-up with the name of
the culprit rather than mid-call. The document's names become typed values
here (a ``play`` step a :class:`~ivr.dialog.flow_model.PlayPrompt`, a re-ask
``{goto: STATE}`` a :class:`~ivr.dialog.flow_model.Goto`), so the conversation
never interprets strings. The YAML dialect itself is in ``flow_yaml``; the
actions a ``do`` step may name, and the step each becomes, in ``flow_steps``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from ivr.dialog.flow_model import (
    DEFAULT_FLOW,
    GRAMMARS,
    INTENTS,
    CollectMode,
    Failure,
    Flow,
    FlowError,
    Goto,
    KeyBinding,
    ListenSpec,
    ReaskEntry,
    Retry,
    Route,
    State,
)
from ivr.dialog.flow_steps import parse_guards, parse_step
from ivr.dialog.flow_yaml import parse_yaml
from ivr.dialog.prompts import load_catalogs
from ivr.vocab.locales import LOCALES

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
        "on_inbound",
        "min_confidence",
        "min_asr_confidence",
        "max_turns",
        "on_max_turns",
        "entry_points",
        "keypad_pause_s",
        "reask_policies",
        "branch_sets",
        "states",
    }
)
_KEYS = frozenset("0123456789*#")


def load_flow(
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
    flow = flow_from_mapping(raw, source=source.name)
    if locales is not None:
        flow.check_prompts(load_catalogs(prompts_root, locales).values())
    return flow


def flow_from_mapping(raw: Any, source: str = "flow") -> Flow:
    """Build and validate a flow from an already parsed document."""
    return _Parser(source).parse(raw)


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
            keypad_pause_s=float(raw.get("keypad_pause_s", 3.0)),
            on_inbound=self._target(raw.get("on_inbound", start), "on_inbound"),
        )
        if flow.keypad_pause_s <= 0:
            raise self.fail("keypad_pause_s must be > 0")
        self._check_chains(flow)
        return flow

    def _target(self, name: Any, where: str) -> str:
        if not isinstance(name, str) or name not in self.state_names:
            raise self.fail(f"{where}: unknown state '{name}'")
        return name

    def _policies(self, raw: Any) -> dict[str, dict[Failure, tuple[ReaskEntry, ...]]]:
        if not isinstance(raw, dict) or "default" not in raw:
            raise self.fail("'reask_policies' must be a mapping with a 'default' policy")
        out: dict[str, dict[Failure, tuple[ReaskEntry, ...]]] = {}
        for name, kinds in raw.items():
            where = f"reask policy '{name}'"
            if not isinstance(kinds, dict) or "unknown" not in kinds:
                raise self.fail(f"{where}: needs at least an 'unknown' list")
            policy: dict[Failure, tuple[ReaskEntry, ...]] = {}
            for kind, entries in kinds.items():
                try:
                    failure = Failure(kind)
                except ValueError:
                    raise self.fail(f"{where}: unknown failure kind '{kind}'") from None
                if not isinstance(entries, list) or not entries:
                    raise self.fail(f"{where}.{kind}: expected a non-empty list")
                policy[failure] = tuple(self._reask_entry(e, f"{where}.{kind}") for e in entries)
            out[str(name)] = policy
        return out

    def _reask_entry(self, entry: Any, where: str) -> ReaskEntry:
        if entry in ("reask", "keypad"):
            return Retry(entry)
        if isinstance(entry, dict) and set(entry) == {"goto"}:
            return Goto(self._target(entry["goto"], where))
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
            when = parse_guards(item.get("when", []), f"{self.source}: {where}")
            routes.append(Route(self._target(item["goto"], where), when))
        return tuple(routes)

    def _keypad(self, raw: Any, where: str, collect: CollectMode | None) -> dict[str, KeyBinding]:
        if not isinstance(raw, dict):
            raise self.fail(f"{where}: keypad must map keys to intents")
        out: dict[str, KeyBinding] = {}
        for key, value in raw.items():
            key = str(key)
            if len(key) != 1 or key not in _KEYS:
                raise self.fail(f"{where}: keypad key {key!r} must be one of 0-9, * or #")
            if collect and key == "#":
                raise self.fail(f"{where}: '#' ends the keypad entry here and cannot be bound")
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
        named = [
            parse_step(s, f"{self.source}: {where}, do[{i}]")
            for i, s in enumerate(body.get("do", []))
        ]
        steps = tuple(step for _, step in named)
        for i, (action, step) in enumerate(named):
            if step.ends_call and i != len(steps) - 1:
                raise self.fail(f"{where}: '{action}' must be the last step")
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
        goto_when: tuple[Route, ...] = ()
        if isinstance(goto, list):
            routes = self._routes(goto, f"{where}, goto")
            if routes[-1].when or any(not r.when for r in routes[:-1]):
                raise self.fail(f"{where}: a guarded goto ends with one unguarded route")
            goto_when, goto = routes[:-1], routes[-1].target
        elif goto is not None:
            goto = self._target(goto, f"{where}, goto")
        if goto is not None and listen is not None:
            raise self.fail(f"{where}: a listening state cannot also 'goto'")
        terminal = bool(steps) and steps[-1].ends_call
        if terminal and (steps[-1].when or steps[-1].unless):
            raise self.fail(f"{where}: the final '{named[-1][0]}' cannot have a guard")
        if listen is None and goto is None and not terminal:
            raise self.fail(f"{where}: needs 'ask'+'listen', a 'goto', or end_call/transfer")
        if terminal and (listen is not None or goto is not None):
            raise self.fail(f"{where}: ends the call, so it cannot listen or 'goto'")
        collect = self._collect(body.get("collect"), where)
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
            goto_when=goto_when,
            keypad=self._keypad(body.get("keypad", {}), where, collect),
            keypad_prompt=body.get("keypad_prompt"),
            collect=collect,
            slot_intent=slot_intent,
            branches=branches,
            reask=str(reask),
            on=self._routes_map(body.get("on", {}), where),
        )

    def _collect(self, value: Any, where: str) -> CollectMode | None:
        if value is None:
            return None
        try:
            return CollectMode(value)
        except ValueError:
            raise self.fail(f"{where}: unknown collect mode '{value}'") from None

    def _check_chains(self, flow: Flow) -> None:
        """Action-only states must reach a listening or ending state, not loop."""
        for name in flow.states:
            self._walk(flow, name, [])

    def _walk(self, flow: Flow, current: str, seen: list[str]) -> None:
        """Every path of action-only hops from ``current`` ends listening or ending."""
        state = flow.states[current]
        if state.listens or state.goto is None:
            return
        if current in seen:
            raise self.fail(f"states loop without listening: {' -> '.join(seen)}")
        for target in (*(r.target for r in state.goto_when), state.goto):
            self._walk(flow, target, [*seen, current])
