"""Which espeak-ng voice speaks each locale: voice, variant, rate and pitch.

Why a variant matters: the pt-BR prompts are written in a woman's voice
("Obrigada", "a assistente automática"), and espeak-ng's own pt-br voice is a
man's. A female variant (``+f4``) makes the voice agree with the words. ``f4``
of the five plain female variants keeps the most of its energy inside the
telephone band (300-3400 Hz, 79% against 65% for ``f3``) and adds no breath
noise, which the 8 kHz mu-law line would only make hissier.

A profile is plain data: :class:`ivr.config.Settings` builds one per locale from
``IVR_TTS_*`` variables, :class:`ivr.voice.tts.Pyttsx3Synthesizer` asks its worker
whether the voice and variant exist at start-up and names the setting when one
does not, and the prompt cache keys on every field, so a voice change never
serves audio rendered with the old one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger(__name__)

DEFAULT_PITCH = 50
PITCH_RANGE = (0, 99)  # espeak-ng's pitch parameter; 50 is the voice's own
RATE_RANGE = (80, 450)  # words per minute espeak-ng accepts

#: The gender the prompts of a locale speak in, where the language marks it
#: (pt-BR: "Obrigada"). The voice of that locale must agree; English does not mark it.
PROMPT_SPEAKER_GENDER: Mapping[str, str] = {"pt-BR": "female"}

_VOICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]*")
_VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def check_voice_name(value: str) -> str:
    """An espeak-ng voice name such as ``pt-br`` or ``roa/pt-BR``; no variant in it."""
    value = value.strip()
    if "+" in value:
        raise ValueError("the voice name takes no +variant: the variant has a setting of its own")
    if not _VOICE_NAME.fullmatch(value):
        raise ValueError("must be an espeak-ng voice name such as pt-br (espeak-ng --voices)")
    return value


def check_variant_name(value: str) -> str:
    """An espeak-ng variant name such as ``f4`` (``espeak-ng --voices=variant``), or ''."""
    value = value.strip().removeprefix("+")
    if value and not _VARIANT_NAME.fullmatch(value):
        raise ValueError("must be an espeak-ng variant such as f4 (espeak-ng --voices=variant)")
    return value


@dataclass(frozen=True)
class VoiceProfile:
    """One locale's voice. ``rate`` None: the synthesizer's default rate.

    ``setting`` is the locale part of the ``IVR_TTS_*`` names this profile came
    from (``PT_BR``), so an error can name the variable to fix; it is not part
    of the voice and does not take part in comparisons.
    """

    voice: str
    variant: str = ""
    rate: int | None = None
    pitch: int = DEFAULT_PITCH
    setting: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        check_voice_name(self.voice)
        check_variant_name(self.variant)
        if self.rate is not None and not RATE_RANGE[0] <= self.rate <= RATE_RANGE[1]:
            raise ValueError(f"speech rate must be {RATE_RANGE[0]}..{RATE_RANGE[1]}")
        if not PITCH_RANGE[0] <= self.pitch <= PITCH_RANGE[1]:
            raise ValueError(f"pitch must be {PITCH_RANGE[0]}..{PITCH_RANGE[1]}")

    @classmethod
    def parse(cls, spec: str) -> VoiceProfile:
        """espeak-ng's own ``voice+variant`` spelling (``pt-br+f4``) as a profile."""
        voice, _, variant = spec.partition("+")
        return cls(voice=voice.strip(), variant=variant.strip())

    @classmethod
    def of(cls, voice: VoiceProfile | str) -> VoiceProfile:
        """``voice`` itself, or the profile its ``voice+variant`` spelling names."""
        return voice if isinstance(voice, VoiceProfile) else cls.parse(voice)

    @property
    def espeak_name(self) -> str:
        """The name espeak-ng selects the voice by: ``pt-br+f4``."""
        return f"{self.voice}+{self.variant}" if self.variant else self.voice

    def setting_name(self, part: str) -> str:
        """``IVR_TTS_VOICE_PT_BR`` for ``part="voice"``; '' when not from settings."""
        return f"IVR_TTS_{part.upper()}_{self.setting}" if self.setting else ""


#: The voices used when nothing is configured. ko-KR is a test locale only
#: (see grammars/ko-KR/README.md) and has no settings of its own.
DEFAULT_PROFILES: Mapping[str, VoiceProfile] = {
    "pt-BR": VoiceProfile("pt-br", "f4"),
    "en-US": VoiceProfile("en-us", "f4"),
    "ko-KR": VoiceProfile("ko"),
}


def unknown_voice_message(reply: Mapping[str, Any], profiles: Iterable[VoiceProfile]) -> str:
    """What espeak-ng lacks, according to the worker's ``info`` reply, with the
    setting that asked for it when there is one; '' when nothing is missing."""
    missing_voices, missing_variants = reply.get("missing", []), reply.get("missing_variants", [])
    if not missing_voices and not missing_variants:
        return ""
    profiles = list(profiles)
    parts = []
    for name in missing_voices:
        where = [p.setting_name("voice") for p in profiles if p.voice.lower() == name.lower()]
        parts.append(f"voice {name} not found in espeak-ng{_named(where)}")
    for name in missing_variants:
        where = [p.setting_name("variant") for p in profiles if p.variant == name]
        parts.append(f"voice variant {name} not found in espeak-ng{_named(where)}")
    hint = "espeak-ng --voices and --voices=variant list them; apt-get install espeak-ng-data"
    return f"{'; '.join(parts)}. {hint}"


def _named(settings: Iterable[str]) -> str:
    names = sorted({s for s in settings if s})
    return f" (set by {', '.join(names)})" if names else ""


def gender_mismatches(
    profiles: Mapping[str, VoiceProfile], genders: Mapping[str, str | None]
) -> list[str]:
    """Locales whose voice speaks in another gender than their prompts, in words.

    ``genders`` maps an espeak name (``pt-br+f4``) to the gender espeak-ng gives it.
    """
    problems = []
    for locale, wanted in PROMPT_SPEAKER_GENDER.items():
        profile = profiles.get(locale)
        if profile is None:
            continue
        got = genders.get(profile.espeak_name)
        if got is not None and got != wanted:
            hint = f" (set {profile.setting_name('variant')})" if profile.setting else ""
            problems.append(
                f"{locale} prompts speak as a {wanted} speaker but voice "
                f"{profile.espeak_name} is {got}; choose a {wanted} variant{hint}"
            )
    return problems


def warn_on_gender_mismatch(profiles: Mapping[str, VoiceProfile], reply: Mapping[str, Any]) -> None:
    """Log each locale whose voice (per the worker's ``info`` reply) does not
    speak in its prompts' gender: a setting mistake, not a reason to stop."""
    for problem in gender_mismatches(profiles, reply.get("genders", {})):
        log.warning("tts.voice_gender", problem=problem)
