"""The per-call token that binds a Media Stream to the call it belongs to.

The WebSocket upgrade is signed over a URL that never changes, so a captured
upgrade header opens a socket at any time; what the socket may then do is
decided by ``start``. The answer TwiML of each call carries
``HMAC-SHA256(key, "<attempt id>:<CallSid>")`` as a ``<Parameter>``, which
Twilio echoes in ``start.customParameters``; the stream is accepted only when
the token verifies for the attempt and CallSid that ``start`` names.

The key is derived from ``IVR_SECRET_KEY`` when it is set, else from the
Twilio auth token (every replica must have that one to check signatures),
so a token minted by one replica verifies on all of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

TOKEN_PARAMETER = "stream_token"
_CONTEXT = b"ivr-stream-token\0"


class StreamTokens:
    """Mints and verifies stream tokens with one derived key."""

    def __init__(self, secret_key: str | None, auth_token: str) -> None:
        secret = secret_key or auth_token
        self._key = hashlib.sha256(_CONTEXT + secret.encode("utf-8")).digest()

    def mint(self, attempt_id: int, call_sid: str) -> str:
        mac = hmac.new(self._key, f"{attempt_id}:{call_sid}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")

    def verify(self, attempt_id: int, call_sid: str, token: str | None) -> bool:
        if not token:
            return False
        expected = self.mint(attempt_id, call_sid).encode("ascii")
        return hmac.compare_digest(expected, token.encode("utf-8", "replace"))
