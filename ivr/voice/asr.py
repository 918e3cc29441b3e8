"""Speech recognition with Vosk, restricted to small per-state grammars.

Vosk is fast and safe when used as documented and crashes the whole process
when it is not: an empty or malformed grammar segfaults, changing the grammar
mid-utterance aborts, and non-ASCII words escaped as ``\\uXXXX`` are silently
dropped. This module is the one place that talks to it, and it validates
everything before a call reaches the C library:

- :class:`ivr.voice.asr_model.AsrModel` checks that the directory looks like a
  Vosk model before handing it over, and reports a missing or wrong path by
  name; grammars are validated word by word against the model's vocabulary
  and serialized with ``ensure_ascii=False``.
- :class:`VoskRecognizer` runs every Vosk call in a thread pool (they release the
  GIL; they must never block the event loop), one call at a time per
  recognizer, and defers a grammar change requested mid-utterance until the
  utterance has ended.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ivr.audio import mulaw
from ivr.audio.pcm import pcm16_bytes
from ivr.dialog.grammars import TurnEnds
from ivr.voice.asr_model import UNK, AsrModel
from ivr.voice.errors import AsrError
from ivr.voice.interfaces import AsrEvent


def _confidence(result: Mapping[str, Any]) -> float:
    words = result.get("result") or []
    confs = [float(w.get("conf", 0.0)) for w in words if w.get("word") != UNK]
    return float(np.mean(confs)) if confs else 0.0


ENDPOINT_SILENCE_MS = 400
"""Quiet after recognized speech that ends a turn (the model's rules wait up to 1 s)."""
COMPLETE_SILENCE_MS = 150
"""Quiet that ends a turn once the words heard are a whole answer of the grammar
(:class:`~ivr.dialog.grammars.TurnEnds`): a pause inside an answer is longer
than a frame or two, and nothing can follow a whole answer but a new phrase."""
SILENCE_DBFS = -40.0
"""Below this level a 20 ms frame counts as quiet (phone-line noise sits lower)."""
UPSAMPLE_QUALITY = "QQ"
"""8 kHz phone audio to the model's rate frame by frame: the default filter held
the audio back in 100 ms bursts, a delay added to every turn's end; the line
carries nothing above 4 kHz for a sharper filter to keep clean."""
GATE_DBFS = -50.0
"""Between utterances, frames below this level never reach Vosk (see
:meth:`VoskRecognizer.accept`); well under :data:`SILENCE_DBFS`, so soft speech
and a noisy line still go through."""
PREROLL_FRAMES = 15
"""Quiet frames kept while the gate is shut and fed ahead of the first louder
one (300 ms): the decoder hears the onset of a word and the quiet before it."""
IDLE_QUIET_MS = 1000
"""An utterance in which nothing was recognized ends after this much quiet, so
the gate can shut again (the model's own rule would wait much longer)."""


class VoskRecognizer:
    """One call's Vosk recognizer: mu-law 8 kHz in, partial and final results out.

    Create it on the event loop (it only validates the grammar); the Vosk
    recognizer is built on first use in the model's thread pool. Calls are
    serialized per recognizer by an asyncio lock, so Vosk never sees two
    threads on one recognizer.

    A final event with empty text is returned only to close an utterance that
    produced a partial event, so whoever reacted to the partial (barge-in)
    learns that nothing was understood.
    """

    def __init__(
        self,
        model: AsrModel,
        grammar: Sequence[str] | None,
        *,
        endpoint_silence_ms: int | None = ENDPOINT_SILENCE_MS,
        complete_silence_ms: int | None = None,
        silence_dbfs: float = SILENCE_DBFS,
        gate_dbfs: float | None = GATE_DBFS,
    ) -> None:
        self.model = model
        self.gate_dbfs = gate_dbfs
        self._gate_open = gate_dbfs is None
        self._preroll: deque[bytes] = deque(maxlen=PREROLL_FRAMES)
        self.endpoint_silence_ms = endpoint_silence_ms
        self.complete_silence_ms = complete_silence_ms
        self.silence_dbfs = silence_dbfs
        self._trailing_silence_ms = 0
        self._grammar = None if grammar is None else model.grammar_json(grammar)
        self._ends = None if grammar is None else TurnEnds(grammar)
        self._pending_grammar: str | None = None
        self._pending_ends: TurnEnds | None = None
        self._rec: Any = None
        self._lock = asyncio.Lock()
        self._upsampler = mulaw.UlawUpsampler(model.sample_rate, UPSAMPLE_QUALITY)
        self._mid_utterance = False
        self._reset_requested = False
        self._last_partial = ""
        self._announced = False
        self._closed = False

    # -------------------------------------------------------- public API

    @property
    def grammar_pending(self) -> bool:
        """A grammar change waits for the current utterance to end."""
        return self._pending_grammar is not None

    async def accept(self, ulaw_chunk: bytes) -> AsrEvent | None:
        """Feed caller audio (any length; 20 ms frames are typical).

        Between utterances a quiet line does not reach Vosk at all: decoding
        silence costs as much as decoding speech, and a caller is quiet most
        of a call (listening to the prompts). Quiet frames wait in a short
        pre-roll; the first louder frame opens the gate and Vosk gets the
        pre-roll and everything after it until the utterance ends.
        """
        if self._closed:
            raise AsrError("recognizer is closed")
        chunk = self._through_gate(bytes(ulaw_chunk))
        if not chunk:
            return None
        return await self._call(self._accept_sync, chunk)

    async def finish(self) -> AsrEvent | None:
        """End the utterance in progress now (the caller hung up): its final
        result, or None when nothing was being said. Vosk is asked only when
        audio reached it since the last result or reset."""
        return await self._call(self._finish_sync)

    async def set_grammar(self, phrases: Sequence[str]) -> None:
        """Switch grammar between utterances; mid-utterance the switch is deferred.

        The phrases are validated at once (so errors surface here); the switch
        happens now if no audio was fed since the last result or reset, else
        right after the utterance ends. Call :meth:`reset` first to switch at once.
        """
        grammar = self.model.grammar_json(phrases)
        self._pending_grammar = grammar
        self._pending_ends = TurnEnds(phrases)
        await self._call(self._apply_pending_sync)

    def reset(self) -> None:
        """Forget the current utterance (applied before the next Vosk call)."""
        self._reset_requested = True
        self._shut_gate()
        self._last_partial = ""
        self._announced = False

    def close(self) -> None:
        """Drop the Vosk recognizer (freed when no call uses it any more)."""
        self._closed = True
        self._rec = None

    # -------------------------------------------------------- the gate

    def _through_gate(self, chunk: bytes) -> bytes:
        """What of ``chunk`` Vosk must hear: all of it while the gate is open;
        while shut, nothing if it is quiet, else the pre-roll and the chunk
        from its first louder frame on (which opens the gate)."""
        if self._gate_open or self.gate_dbfs is None:
            return chunk
        for i in range(0, len(chunk), mulaw.FRAME_BYTES):
            frame = chunk[i : i + mulaw.FRAME_BYTES]
            if mulaw.rms_dbfs(frame) > self.gate_dbfs:
                self._gate_open = True
                fed = b"".join(self._preroll) + chunk[i:]
                self._preroll.clear()
                return fed
            self._preroll.append(frame)
        return b""

    def _shut_gate(self) -> None:
        """An utterance ended: quiet frames stop reaching Vosk until speech."""
        if self.gate_dbfs is not None:
            self._gate_open = False
            self._preroll.clear()

    # -------------------------------------------------------- thread side

    async def _call(self, fn: Any, *args: Any) -> AsrEvent | None:
        if self._closed:
            raise AsrError("recognizer is closed")
        async with self._lock:
            loop = asyncio.get_running_loop()
            result: AsrEvent | None = await loop.run_in_executor(self.model.executor, fn, *args)
            return result

    def _recognizer(self) -> Any:
        if self._closed:  # a job still in the pool when the recognizer was closed: build nothing
            raise AsrError("recognizer is closed")
        if self._rec is None:
            import vosk

            if self._grammar is None:
                rec = vosk.KaldiRecognizer(self.model.vosk_model, float(self.model.sample_rate))
            else:
                rec = vosk.KaldiRecognizer(
                    self.model.vosk_model, float(self.model.sample_rate), self._grammar
                )
            rec.SetWords(True)
            self._rec = rec
        if self._reset_requested:
            self._rec.Reset()
            self._upsampler = mulaw.UlawUpsampler(self.model.sample_rate, UPSAMPLE_QUALITY)
            self._reset_requested = False
            self._mid_utterance = False
        return self._rec

    def _apply_pending_sync(self) -> None:
        rec = self._recognizer()
        if self._pending_grammar is not None and not self._mid_utterance:
            rec.SetGrammar(self._pending_grammar)
            self._grammar, self._pending_grammar = self._pending_grammar, None
            self._ends, self._pending_ends = self._pending_ends, None

    def _end_utterance(self, raw: str) -> AsrEvent | None:
        self._mid_utterance = False
        self._trailing_silence_ms = 0
        self._shut_gate()
        self._apply_pending_sync()
        result = json.loads(raw)
        text = " ".join(w for w in str(result.get("text", "")).split() if w != UNK)
        announced, self._announced = self._announced, False
        self._last_partial = ""
        if text or announced:
            return AsrEvent(text, _confidence(result) if text else 0.0, True)
        return None

    def _track_silence(self, chunk: bytes) -> None:
        for i in range(0, len(chunk), mulaw.FRAME_BYTES):
            frame = chunk[i : i + mulaw.FRAME_BYTES]
            if mulaw.rms_dbfs(frame) > self.silence_dbfs:
                self._trailing_silence_ms = 0
            else:
                self._trailing_silence_ms += len(frame) // 8

    def _accept_sync(self, chunk: bytes) -> AsrEvent | None:
        rec = self._recognizer()
        self._track_silence(chunk)
        pcm = self._upsampler.feed(chunk)
        if pcm.size == 0:
            return None
        if rec.AcceptWaveform(pcm16_bytes(pcm)):
            self._trailing_silence_ms = 0
            return self._end_utterance(rec.Result())
        self._mid_utterance = True
        partial = json.loads(rec.PartialResult()).get("partial", "")
        partial = " ".join(w for w in str(partial).split() if w != UNK)
        fresh = bool(partial) and partial != self._last_partial
        if fresh:
            self._last_partial = partial
        quiet_needed = self._quiet_needed_ms()
        if quiet_needed is not None and self._trailing_silence_ms >= quiet_needed:
            # The caller said something and then stayed quiet: end the turn now
            # instead of waiting for the model's own (slower) endpoint rules.
            self._trailing_silence_ms = 0
            return self._end_utterance(rec.FinalResult())
        if fresh:
            self._announced = True
            return AsrEvent(partial, 0.0, False)
        return None

    def _quiet_needed_ms(self) -> int | None:
        """How much trailing quiet ends the current utterance (None: the model decides).

        Nothing heard yet: a long quiet ends it while the gate is in use (so
        the gate can shut), else the model decides. A whole answer of the
        active grammar needs only the short silence, anything else the usual one.
        """
        if not self._last_partial:
            return IDLE_QUIET_MS if self.gate_dbfs is not None else None
        if (
            self.complete_silence_ms is not None
            and self._ends is not None
            and self._ends.complete(self._last_partial)
        ):
            if self.endpoint_silence_ms is None:
                return self.complete_silence_ms
            return min(self.complete_silence_ms, self.endpoint_silence_ms)
        return self.endpoint_silence_ms

    def _finish_sync(self) -> AsrEvent | None:
        if self._rec is None or self._reset_requested or not self._mid_utterance:
            return None  # nothing fed since the utterance ended or was forgotten
        rec = self._recognizer()
        tail = self._upsampler.flush()
        self._upsampler = mulaw.UlawUpsampler(self.model.sample_rate, UPSAMPLE_QUALITY)
        if tail.size and rec.AcceptWaveform(pcm16_bytes(tail)):
            return self._end_utterance(rec.Result())
        return self._end_utterance(rec.FinalResult())
