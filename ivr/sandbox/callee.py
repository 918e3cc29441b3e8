"""Scripted people at the far end of a sandbox call.

A :class:`CalleeScript` says how a number answers (a person, a voicemail box,
busy, no answer, a failing line) and what the person does once the call is up:
wait for the service to finish a prompt, press keys, speak recorded audio,
stay silent, hang up. Tests describe the debtor (or the agent on a ``<Dial>``
leg) with one of these instead of poking the service directly, so the same
script drives the TwiML verbs and a Media Stream alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Answer = Literal["human", "voicemail", "no-answer", "busy", "failed"]
CallbackOrder = Literal["in-order", "reverse", "shuffle"]


@dataclass(frozen=True)
class WaitForPrompt:
    """Wait until the service has played a prompt and stopped.

    Satisfied once at least ``min_audible_ms`` of audible audio has played
    since the step began, followed by ``then_silence_ms`` of silence or by a
    mark being echoed (the service's own "prompt finished" signal). Gives up
    after ``timeout_s`` seconds of call time and records ``prompt-timeout``.
    """

    min_audible_ms: int = 300
    then_silence_ms: int = 400
    timeout_s: float = 60.0


@dataclass(frozen=True)
class Press:
    """Press keypad digits, ``gap_ms`` apart.

    On a Media Stream each digit is a ``dtmf`` event; during ``<Gather>`` the
    digits feed the gather. The first digit waits (up to the script's
    ``patience_s``) for something to listen; later digits nobody hears are lost.
    """

    digits: str
    gap_ms: int = 150


@dataclass(frozen=True)
class Speak:
    """Say something: raw 8 kHz mu-law audio sent as inbound media frames.

    ``transcript`` is what a speech ``<Gather>`` would recognise (the sandbox
    does no recognition of its own); it is ignored on a Media Stream, where
    the service hears only the audio.
    """

    ulaw_audio: bytes
    transcript: str | None = None
    confidence: float = 0.9


@dataclass(frozen=True)
class Silence:
    """Stay quiet for ``seconds`` of call time."""

    seconds: float


@dataclass(frozen=True)
class HangUp:
    """Hang up: the stream gets ``stop`` and the call completes."""


Step = WaitForPrompt | Press | Speak | Silence | HangUp


@dataclass(frozen=True)
class CallbackFaults:
    """How status callbacks reach the service: in order, reversed or shuffled, once or twice.

    Twilio does not promise arrival order, and retries can repeat a callback;
    a service must survive both. ``reverse``/``shuffle`` hold a call's status
    callbacks until its last one and then deliver them in that order.
    ``omit_sequence`` leaves out ``SequenceNumber`` (status callbacks set on
    a phone number, and older integrations, carry only ``Timestamp``).
    """

    order: CallbackOrder = "in-order"
    duplicate: bool = False
    seed: int | None = None
    omit_sequence: bool = False


@dataclass(frozen=True)
class CalleeScript:
    """How one phone number (or ``client:NAME`` / ``sip:...`` endpoint) behaves.

    ``answer``: ``human`` or ``voicemail`` pick up after ``ring_seconds``;
    ``busy``/``failed`` end the call after the ring; ``no-answer`` rings until
    the caller's timeout. ``answered_by`` overrides what answering-machine
    detection reports (default: ``human`` for a person, ``machine_start``
    with ``MachineDetection=Enable`` and ``machine_end_beep`` with
    ``DetectMessageEnd`` for voicemail); ``amd_ms`` is how long detection takes.
    After the last step the callee stays on the line, silent, until the
    service ends the call, unless ``hangup_when_done``.
    """

    answer: Answer = "human"
    ring_seconds: float = 1.0
    steps: tuple[Step, ...] | list[Step] = field(default_factory=tuple)
    answered_by: str | None = None
    amd_ms: int | None = None
    hangup_when_done: bool = False
    patience_s: float = 30.0
    callbacks: CallbackFaults | None = None


DEFAULT_CALLEE = CalleeScript()
"""A person who answers, listens, and stays until the service hangs up."""
