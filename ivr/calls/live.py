"""Registry of the calls this process is streaming, by CallSid.

Webhooks that arrive on a different request (the asynchronous AMD result, a
final status) reach the running session through here.
"""

from __future__ import annotations

from typing import Protocol


class LiveSession(Protocol):
    def machine_detected(self, answered_by: str) -> None: ...

    def carrier_ended(self) -> None: ...


class LiveCalls:
    def __init__(self) -> None:
        self._by_sid: dict[str, LiveSession] = {}
        # Calls ended because the store refused a write after its retries
        # (reported by /healthz so that monitoring sees it).
        self.store_write_failures = 0

    def store_write_failed(self) -> None:
        self.store_write_failures += 1

    def add(self, call_sid: str, session: LiveSession) -> None:
        self._by_sid[call_sid] = session

    def remove(self, call_sid: str) -> None:
        self._by_sid.pop(call_sid, None)

    def get(self, call_sid: str) -> LiveSession | None:
        return self._by_sid.get(call_sid)

    def __len__(self) -> int:
        return len(self._by_sid)

    def answered_by(self, call_sid: str, answered_by: str) -> None:
        session = self._by_sid.get(call_sid)
        if session is not None and answered_by.startswith(("machine", "fax")):
            session.machine_detected(answered_by)

    def ended(self, call_sid: str) -> None:
        session = self._by_sid.get(call_sid)
        if session is not None:
            session.carrier_ended()
