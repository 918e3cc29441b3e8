"""One call's conversation: walks the flow, turning events into actions.

It takes :mod:`ivr.dialog.events` events and returns actions, so every branch
is tested with events alone; it never sees Twilio, audio or the database. What
the flow *says* lives in :mod:`ivr.dialog.flow_model` (loaded from
``flow.yaml``); this module only knows how to walk it. How the caller's keys
are read (an answer by itself, or an entry) is :mod:`ivr.dialog.keypad_input`.
"""

from __future__ import annotations

from ivr.dialog.caller_turn import (
    Answer,
    Understand,
    remember,
    understood,
    with_slot_intent,
)
from ivr.dialog.events import (
    Action,
    CallAnswered,
    CallContext,
    CallerLookup,
    CallerVerified,
    Digits,
    Event,
    Hangup,
    Listen,
    LogTurn,
    MachineAnswered,
    Play,
    PromptDone,
    RecordOutcome,
    RecordPlan,
    RecordPromise,
    ScheduleCallback,
    SendPaymentDetails,
    Silence,
    Speech,
)
from ivr.dialog.flow_guards import CallerAnswers, all_hold, any_holds
from ivr.dialog.flow_model import (
    BookCallback,
    ChoosePlan,
    Emit,
    Failure,
    Finish,
    Flow,
    Goto,
    ListenSpec,
    MarkVerified,
    PlayPrompt,
    Retry,
    SavePromise,
    SelectCaller,
    SetOutcome,
    State,
    StepAction,
)
from ivr.dialog.inbound_identity import looked_up, select_caller, spoken_person
from ivr.dialog.keypad_input import KeypadInput
from ivr.dialog.prompt_values import base_variables, call_variables
from ivr.dialog.prompts import PromptCatalog, PromptError


class Dialog(KeypadInput):
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
        self._base = base_variables(ctx, catalog)
        self.answers = CallerAnswers()
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
        if isinstance(event, MachineAnswered):
            target = self.flow.on_machine
        else:
            target = self.flow.on_inbound if self.ctx.inbound else self.flow.start
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
        if isinstance(event, CallerLookup):
            return self._looked_up(event, actions)
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
                return self._entry(state, entry, actions)
            return self._turn(actions, None, LogTurn("silence", {"state": self._state}))
        return actions

    # -- understanding ------------------------------------------------------------------

    def _looked_up(self, event: CallerLookup, actions: list[Action]) -> list[Action]:
        """The people a keyed reference names: route ``found`` / ``not_found``."""
        self.ctx, answer, log = looked_up(self.ctx, event, self._state)
        self.answers.chosen = None
        return self._turn(actions, answer, log)

    def _speech(self, state: State, event: Speech, actions: list[Action]) -> list[Action]:
        person = spoken_person(state.collect, event.text, self.ctx, self._state)
        if person is not None:
            return self._turn(actions, *person)
        answer, logged = understood(
            event.text, event.confidence, self.ctx, self._understand, self.flow, self._state
        )
        return self._turn(actions, answer, LogTurn("speech", logged))

    # -- routing ------------------------------------------------------------------------

    def _turn(self, actions: list[Action], answer: Answer | None, log: LogTurn) -> list[Action]:
        """Route one caller turn (``None`` = silence) from the current state."""
        actions.append(log)
        state = self.flow.states[self._state]
        self._turns += 1
        if self._turns > self.flow.max_turns:
            self._enter(self.flow.on_max_turns, actions)
            return actions
        if answer is None:
            self._fail(state, Failure.SILENCE, actions)
            return actions
        if answer.intent == "repeat":
            self._repeat(state, actions, with_keys=answer.keyed)
            return actions
        answer = with_slot_intent(state.slot_intent, answer)
        # Guards see what this answer would add; it is kept only if it leads
        # somewhere, so a misheard number never turns into a promised amount.
        agreed = remember(answer, self.answers, self.ctx)
        routes = state.on.get(answer.intent)
        if routes is None and state.branches:
            routes = self.flow.branch_sets[state.branches].get(answer.intent)
        target = next(
            (r.target for r in routes or () if all_hold(r.when, self.ctx, agreed)),
            None,
        )
        if target is None:
            self._fail(state, Failure.UNKNOWN, actions)
            return actions
        self.answers = agreed
        if target == self._state:
            self._fail(state, Failure.LOOP, actions)
        else:
            self._enter(target, actions)
        return actions

    def _fail(self, state: State, kind: Failure, actions: list[Action]) -> None:
        """Nothing usable was heard: other words, then the keypad, then give up."""
        self._failures += 1
        policy = self.flow.reask_policies[state.reask]
        entries = policy.get(kind) or policy[Failure.UNKNOWN]
        match entries[min(self._failures, len(entries)) - 1]:
            case Goto(target):
                self._enter(target, actions)
                return
            case Retry.KEYPAD if state.keypad_prompt:
                actions.append(self._play(state.keypad_prompt, self._keypad_plays))
                self._keypad_plays += 1
            case _:
                self._ask_variant = self._failures
                actions.append(self._play(state.ask or "", self._ask_variant))
        actions.append(self._listen(state))

    def _repeat(self, state: State, actions: list[Action], with_keys: bool = False) -> None:
        """Say it again; asked by key, with the question's keys after it."""
        for prompt_id, barge_in in self._entry_plays:
            actions.append(self._play(prompt_id, 0, barge_in))
        if state.ask:
            actions.append(self._play(state.ask, self._ask_variant))
            if with_keys and state.keypad_prompt:
                actions.append(self._play(state.keypad_prompt, 0))
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
                if all_hold(step.when, self.ctx, self.answers) and not any_holds(
                    step.unless, self.ctx, self.answers
                ):
                    self._run(step.action, actions)
            if self._finished or state.listen is not None or state.goto is None:
                break
            name = next(
                (r.target for r in state.goto_when if all_hold(r.when, self.ctx, self.answers)),
                state.goto,
            )
        if not self._finished and state.ask:
            actions.append(self._play(state.ask, 0))
            actions.append(self._listen(state))

    def _run(self, step: StepAction, actions: list[Action]) -> None:
        match step:
            case PlayPrompt(prompt, barge_in):
                actions.append(self._play(prompt, 0, barge_in))
                self._entry_plays.append((prompt, barge_in))
            case SetOutcome(outcome, only_if_unset):
                if not only_if_unset or self._outcome is None:
                    self._set_outcome(outcome, actions)
            case SavePromise():
                made, is_plan = self.answers.to_record(self.ctx)
                if is_plan:
                    actions.append(RecordPlan(made))
                elif made:
                    actions.append(RecordPromise(*made[0]))
                self.answers.promised += made
            case BookCallback(any_time):
                if any_time:
                    self.answers.callback_date = self.answers.callback_time = None
                actions.append(ScheduleCallback(self.answers.callback_at(self.ctx.today)))
            case ChoosePlan(plan):
                self.answers.plan = plan
            case MarkVerified():
                self.answers.verified = True
                actions.append(CallerVerified())
            case SelectCaller():
                self._select_caller(actions)
            case Emit(SendPaymentDetails()):  # about what this call promised
                actions.append(SendPaymentDetails(self.answers.promised))
            case Emit(action):
                actions.append(action)
            case Finish(action):
                actions.append(action)
                self._finished = True

    def _select_caller(self, actions: list[Action]) -> None:
        """Speak as the candidate the caller chose (the only one, if just one)."""
        selected = select_caller(self.ctx, self.answers.chosen)
        if selected is None:
            return
        self.ctx, identify = selected
        self._base = base_variables(self.ctx, self.catalog)
        if identify is not None:
            actions.append(identify)

    def _set_outcome(self, outcome: str, actions: list[Action]) -> None:
        self._outcome = outcome
        actions.append(RecordOutcome(outcome))

    # -- values -------------------------------------------------------------------------

    def variables(self) -> dict[str, str]:
        """Every placeholder value available right now, as speakable text."""
        return call_variables(self.ctx, self.answers, self._base)

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
