"""What a call needs from its speech engines, and nothing more.

A live call listens and speaks through these two small async interfaces, not
through Vosk or pyttsx3 themselves (like pipecat keeps speech-to-text and
text-to-speech apart from the pipeline that drives them). So the call logic
can be tested with a fake recognizer that "hears" scripted text and a fake
synthesizer that returns silence, and an engine can be replaced without
touching the call. The concrete engines are
:class:`ivr.voice.asr.VoskRecognizer` and :class:`ivr.voice.tts.Pyttsx3Synthesizer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AsrEvent:
    """A recognition result.

    ``final`` is False for a partial result (the text so far, sent as soon as it
    changes so that a prompt can be interrupted); partials carry confidence
    0.0. A final result's confidence is the mean of its word confidences.
    """

    text: str
    confidence: float
    final: bool


class Recognizer(Protocol):
    """One call's speech recognizer: 8 kHz mu-law in, partial and final results out."""

    async def accept(self, ulaw_chunk: bytes) -> AsrEvent | None:
        """Feed caller audio; a result when there is something new to report."""
        ...

    async def set_grammar(self, phrases: Sequence[str]) -> None:
        """Listen for these phrases from the next utterance on."""
        ...

    async def finish(self) -> AsrEvent | None:
        """End the utterance in progress now (the caller hung up mid-sentence):
        its final result, or None when nothing was being said."""
        ...

    def reset(self) -> None:
        """Forget the utterance in progress (it belonged to the last question)."""
        ...

    def close(self) -> None:
        """Release the engine's resources; the recognizer is not used again."""
        ...


RecognizerFactory = Callable[[Sequence[str] | None], Recognizer]
"""Makes a call's recognizer listening with an opening grammar (None: free speech)."""


class Synthesizer(Protocol):
    """Prompt texts to speech, shared by every call of the process."""

    async def render(self, text: str, locale: str, *, personal: bool = False) -> bytes:
        """``text`` spoken in ``locale`` as 8 kHz mono mu-law bytes; ``personal``:
        words of one call only (a name, an amount), cached apart from the common prompts."""
        ...

    async def prerender(self, texts: Iterable[str], locale: str, *, personal: bool = False) -> int:
        """Warm the cache with ``texts`` before a call needs them; how many were new."""
        ...

    async def close(self) -> None:
        """Stop the engine."""
        ...
