"""Settings of the sandbox carrier: credentials, pacing, faults, scripted callees and SMS."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from ivr.sandbox.callee import DEFAULT_CALLEE, CallbackFaults, CalleeScript
from ivr.sandbox.messages_config import SmsConfig

DEFAULT_ACCOUNT_SID = "AC5a4db0c0ffee5a4db0c0ffee5a4db0c0"
"""A fixed development account sid, so a standalone sandbox keeps the same credentials."""
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"

CpsMode = Literal["queue", "reject"]


@dataclass
class FaultConfig:
    """Carrier misbehaviour to inject; mutable at run time (``sb.faults.fail_next(2)``).

    ``rest_fail_next`` REST requests answer ``rest_fail_status`` (429 -> Twilio
    code 20429, 5xx -> 20500/20503); then a fraction ``rest_error_rate`` of the
    rest answer ``rest_error_rate_status``. ``rest_delay_s`` delays every REST
    answer (a slow carrier). ``drop_stream_after_frames`` closes each Media
    Stream socket abruptly, without ``stop`` or a close frame, after that many
    inbound media frames.
    """

    rest_fail_next: int = 0
    rest_fail_status: int = 429
    rest_error_rate: float = 0.0
    rest_error_rate_status: int = 503
    rest_delay_s: float = 0.0
    drop_stream_after_frames: int | None = None
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def fail_next(self, count: int, status: int = 429) -> None:
        """Make the next ``count`` REST requests fail with ``status``."""
        self.rest_fail_next = count
        self.rest_fail_status = status

    def take_rest_failure(self) -> int | None:
        """The HTTP status the current REST request must fail with, if any."""
        if self.rest_fail_next > 0:
            self.rest_fail_next -= 1
            return self.rest_fail_status
        if self.rest_error_rate > 0 and self._rng.random() < self.rest_error_rate:
            return self.rest_error_rate_status
        return None


@dataclass
class SandboxConfig:
    """Everything that shapes one sandbox carrier.

    Pacing: media advances in 20 ms frames on a call clock that runs ``speed``
    times faster than the wall clock (``speed=20`` plays a 3 s prompt in
    150 ms). Every duration a script or TwiML names (rings, pauses, gather
    timeouts, silences) is in call time. ``realtime=False`` drops wall-clock
    pacing in favour of a fixed fast clock (``unpaced_speed``).

    CPS: ``cps`` calls per second may start; above it ``cps_mode="queue"``
    keeps calls ``queued`` (Twilio's behaviour) while ``"reject"`` answers 429.

    URLs: Twilio reaches the service at the public URLs it was given and signs
    those URLs. ``rewrite_base`` maps a public origin to where the service
    really listens (``{"https://ivr.example": "http://127.0.0.1:8080"}``; the
    ``wss://`` form of the same origin follows it); ``rewrite_stream_base``
    sends every Media Stream to one ``ws://host:port`` origin. Signatures always
    cover the original URL. ``api_base_url`` is the origin a ``RecordingUrl``
    names (default: where the sandbox itself listens).

    SMS: ``sms`` holds each number's Messaging URL, the account's senders and
    Messaging Services, and which destinations fail (ivr/sandbox/messages_config.py).
    """

    account_sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    cps: float | None = None
    cps_mode: CpsMode = "queue"
    realtime: bool = True
    speed: float = 1.0
    unpaced_speed: float = 100.0
    faults: FaultConfig = field(default_factory=FaultConfig)
    callbacks: CallbackFaults = field(default_factory=CallbackFaults)
    callees: dict[str, CalleeScript] = field(default_factory=dict)
    default_callee: CalleeScript = DEFAULT_CALLEE
    rewrite_base: dict[str, str] = field(default_factory=dict)
    rewrite_stream_base: str | None = None
    api_base_url: str | None = None
    audible_threshold_dbfs: float = -45.0
    say_ms_per_word: int = 350
    say_min_ms: int = 600
    play_seconds: float = 1.0
    amd_human_ms: int = 1800
    amd_machine_ms: int = 3500
    webhook_timeout_s: float = 15.0
    max_call_seconds: float = 14400.0
    sms: SmsConfig = field(default_factory=SmsConfig)

    @property
    def clock_speed(self) -> float:
        """How many call-time seconds pass per wall-clock second."""
        if not self.realtime:
            return max(self.speed, self.unpaced_speed)
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        return self.speed
