"""Everything a call needs to speak and listen, loaded and checked at start-up.

A missing espeak-ng voice, a missing Vosk model, a grammar word the model
does not know, or a prompt the flow needs but a locale lacks: each stops the
service before it takes a call, with the name of what is missing.

A call sees the engines only through :mod:`ivr.voice.interfaces` (a
synthesizer, and a factory of recognizers when speech is on), so a test can
build a stack from fakes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from ivr.config import Settings
from ivr.dialog.flow_model import Flow
from ivr.dialog.grammars import all_contexts, load_grammar
from ivr.dialog.prompts import PromptCatalog, validate_catalogs
from ivr.vocab.locales import LOCALES
from ivr.voice.asr import COMPLETE_SILENCE_MS, VoskRecognizer
from ivr.voice.asr_model import AsrModel, load_and_check
from ivr.voice.interfaces import Recognizer, RecognizerFactory, Synthesizer
from ivr.voice.tts import Pyttsx3Synthesizer

log = structlog.get_logger(__name__)

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class VoiceStack:
    synthesizer: Synthesizer
    flow: Flow
    catalogs: dict[str, PromptCatalog]
    asr: AsrModel | None = None
    recognizers: RecognizerFactory | None = None  # None: keypad only
    asr_locale: str | None = None  # grammars' locale when it differs (test locale)
    grammars: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    lexicon: dict[str, str] = field(default_factory=dict)

    def grammar(self, locale: str, context: str) -> list[str] | None:
        by_ctx = self.grammars.get(self.asr_locale or locale)
        return None if by_ctx is None else by_ctx.get(context)

    def new_recognizer(self, locale: str, context: str) -> Recognizer | None:
        """A call's recognizer listening with ``context``'s grammar; None when keypad only."""
        if self.recognizers is None:
            return None
        return self.recognizers(self.grammar(locale, context))

    async def speak(
        self,
        locale: str,
        prompt_id: str,
        variables: Mapping[str, Any] | None = None,
        variant: int = 0,
    ) -> tuple[str, bytes]:
        """A catalog prompt's text in ``locale`` and its audio (8 kHz mu-law)."""
        catalog = self.catalogs[locale]
        text = catalog.render(prompt_id, variables or {}, variant)
        personal = catalog.personal(prompt_id)
        return text, await self.synthesizer.render(text, locale, personal=personal)

    def to_understood_text(self, text: str) -> str:
        """Map a test-locale recognition to words the NLU knows (identity otherwise)."""
        if not self.lexicon:
            return text
        return " ".join(self.lexicon.get(w, w) for w in text.split())

    async def close(self) -> None:
        await self.synthesizer.close()
        if self.asr is not None:
            self.asr.close()


def grammar_root() -> Path:
    return ROOT / "grammars"


def prompt_root() -> Path:
    return ROOT / "prompts"


async def build_voice_stack(settings: Settings, *, keypad_only: bool = False) -> VoiceStack:
    flow = Flow.load()
    catalogs = validate_catalogs(flow, prompt_root(), LOCALES)
    synth = Pyttsx3Synthesizer.from_settings(settings)
    await synth.start()
    stack = VoiceStack(synthesizer=synth, flow=flow, catalogs=catalogs)
    if keypad_only or not settings.vosk_model:
        # Asked for (--keypad-only, the demo) is a choice, not trouble; a missing model is.
        if keypad_only:
            log.info("asr.disabled", reason="keypad only")
        else:
            log.warning("asr.disabled", reason="IVR_VOSK_MODEL unset")
        return stack
    asr_locale = settings.asr_locale
    locales = (asr_locale,) if asr_locale else LOCALES
    grammars: dict[str, dict[str, list[str]]] = {}
    for loc in locales:
        grammars[loc] = {
            ctx: load_grammar(loc, ctx, grammar_root()) for ctx in all_contexts(loc, grammar_root())
        }
    flat: dict[str, Any] = {
        f"{loc}/{ctx}": p for loc, g in grammars.items() for ctx, p in g.items()
    }
    try:
        model = await load_and_check(settings.vosk_model, flat)
    except Exception:
        await synth.close()
        raise

    def recognizers(opening: Sequence[str] | None) -> Recognizer:
        # A whole answer of the grammar ends the turn after a short silence.
        return VoskRecognizer(model, opening, complete_silence_ms=COMPLETE_SILENCE_MS)

    stack.asr = model
    stack.recognizers = recognizers
    stack.grammars = grammars
    stack.asr_locale = asr_locale
    if asr_locale:
        lex = grammar_root() / asr_locale / "lexicon.json"
        if lex.is_file():
            stack.lexicon = json.loads(lex.read_text(encoding="utf-8"))
    return stack
