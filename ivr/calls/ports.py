"""Small ports the call session talks to, so agents/ can plug in later."""

from __future__ import annotations

from typing import Protocol


class TransferPort(Protocol):
    async def request(self, *, attempt_id: int, call_sid: str, reason: str, locale: str) -> bool:
        """Hand the call to a person; True when the call was redirected to agents."""
        ...
