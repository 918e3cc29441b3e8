"""The account's calls-per-second limit, as the sandbox carrier enforces it.

Twilio lets calls start at the account's CPS and, above it, keeps the rest
``queued`` (``cps_mode="queue"``); ``"reject"`` answers 429 instead, to test
a service's retries. Kept apart from the call engine because it is about the
account, not any one call. The limit is read from the config on every call,
so a test may change it on a running sandbox.
"""

from __future__ import annotations

import asyncio

from ivr.sandbox.config import SandboxConfig


class CpsGate:
    """Hands out start times at most ``config.cps`` a second, on the event loop's clock."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._next = 0.0

    def admit(self) -> bool:
        """Reject mode: may a call start now? (consumes the slot if so)."""
        cps = self.config.cps
        if cps is None or self.config.cps_mode != "reject":
            return True
        now = asyncio.get_running_loop().time()
        if now < self._next:
            return False
        self._next = now + 1.0 / cps
        return True

    def queued_for(self) -> float:
        """Queue mode: wall-clock seconds this call must stay queued."""
        cps = self.config.cps
        if cps is None or self.config.cps_mode != "queue":
            return 0.0
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + 1.0 / cps
        return slot - now
