"""The caller's keys, as a dialog reads them: one key an answer, or an entry.

A state that collects something (a date, an amount, a document number)
buffers keys until ``#``, a full entry or a pause completes it; a key bound
in the state's keypad is an answer by itself unless it may begin the entry.
An entry keyed in part is logged as such and listened for again with the
flow's short keypad pause instead of the question's whole timeout. A
verification factor's digits are masked in the log.

Kept apart from :mod:`ivr.dialog.conversation`, which mixes it into
:class:`~ivr.dialog.conversation.Dialog` and routes the answers it reads.
"""

from __future__ import annotations

from dataclasses import replace

from ivr.dialog.caller_turn import Answer, key_answer, keypad_answer, read_keys
from ivr.dialog.events import Action, CallContext, Listen, LogTurn
from ivr.dialog.flow_model import Flow, State
from ivr.dialog.inbound_identity import reference_lookup


class KeypadInput:
    """Reads the caller's keys for the dialog it is mixed into."""

    flow: Flow
    ctx: CallContext
    _state: str
    _digits: str  # keys of an entry not complete yet

    def _turn(self, actions: list[Action], answer: Answer | None, log: LogTurn) -> list[Action]:
        raise NotImplementedError  # the dialog's routing

    def _listen(self, state: State) -> Listen:
        raise NotImplementedError  # the dialog's listening

    def _keys(self, state: State, digits: str, actions: list[Action]) -> list[Action]:
        if not state.listens:
            return actions
        if not state.collect:
            return self._key(state, digits[:1], digits, actions)
        read = read_keys(state, self._digits, digits)
        self._digits = read.buffered
        if read.kind == "key":
            return self._key(state, read.value, read.value, actions)
        if read.kind == "entry":
            return self._entry(state, read.value, actions)
        actions.append(self._keyed(state, digits, complete=False))
        # Half an entry: a pause, not the question's whole timeout, completes it.
        actions.append(
            replace(self._listen(state), timeout_s=self.flow.keypad_pause_s, entry_pending=True)
        )
        return actions

    def _key(self, state: State, key: str, digits: str, actions: list[Action]) -> list[Action]:
        """One key pressed as an answer: the intent bound to it in ``state``."""
        answer = key_answer(state.keypad.get(key))
        log = LogTurn("dtmf", {"state": self._state, "digits": digits, "intent": answer.intent})
        return self._turn(actions, answer, log)

    def _entry(self, state: State, entry: str, actions: list[Action]) -> list[Action]:
        """A complete keypad entry: one bound key alone is that key's answer
        ("2" then '#' or a pause), anything else is read by the collect mode."""
        if len(entry) == 1 and entry in state.keypad:
            return self._key(state, entry, entry, actions)
        log = self._keyed(state, entry, complete=True)
        lookup = reference_lookup(state.collect, entry)
        if lookup is not None:  # routed when the service answers with CallerLookup
            actions.extend([log, lookup])
            return actions
        return self._turn(actions, keypad_answer(state.collect, entry, self.ctx), log)

    def _keyed(self, state: State, digits: str, *, complete: bool) -> LogTurn:
        """The log of a keypad entry; a verification factor's digits are masked."""
        shown = "*" * len(digits) if state.collect and state.collect.secret else digits
        return LogTurn("dtmf", {"state": self._state, "digits": shown, "complete": complete})
