"""Personal renders do not push the common prompts out of memory.

A long campaign renders a few prompts per debtor that no other call says
(the name, the amount). Those must not evict the prompts every call says,
and the memory they take must level off at a small budget. The real engine
renders; only the memory budget is small, so a few dozen personal prompts
would fill it.
"""

from __future__ import annotations

from pathlib import Path

from ivr import metrics
from ivr.calls.voice import LOCALES, VoiceStack, prompt_root
from ivr.dialog.flow import Flow
from ivr.dialog.prompts import validate_catalogs
from ivr.voice.tts import Pyttsx3Synthesizer

COMMON = "callback_confirm_any"  # the same words for every caller
PERSONAL = "inbound_goodbye"  # says the caller's first name
MEMORY_BYTES = 150_000  # a few common prompts; far less than the personal renders below
CALLERS = 24


def _cache_count(result: str, kind: str) -> float:
    """``ivr_prompt_cache_total{result, kind}`` as a scrape would read it."""
    return sum(
        sample.value
        for family in metrics.PROMPT_CACHE.collect()
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels == {"result": result, "kind": kind}
    )


async def test_a_common_prompt_stays_in_memory_however_many_personal_ones_are_rendered(
    tmp_path: Path,
) -> None:
    flow = Flow.load()
    catalogs = validate_catalogs(flow, prompt_root(), LOCALES)
    assert not catalogs["pt-BR"].placeholders(COMMON)
    assert catalogs["pt-BR"].placeholders(PERSONAL) == {"first_name"}
    cache = tmp_path / "tts"
    async with Pyttsx3Synthesizer(cache, memory_bytes=MEMORY_BYTES) as synth:
        voice = VoiceStack(synthesizer=synth, flow=flow, catalogs=catalogs)
        _text, common = await voice.speak("pt-BR", COMMON)
        [on_disk] = list(cache.rglob("*.ulaw"))
        personal_bytes = 0
        for n in range(CALLERS):
            _text, audio = await voice.speak("pt-BR", PERSONAL, {"first_name": f"Cliente {n}"})
            personal_bytes += len(audio)
        assert personal_bytes > 2 * MEMORY_BYTES, "enough to push everything out of one cache"
        on_disk.unlink()  # only memory can answer now: a miss would run the engine again
        misses, hits = synth.misses, _cache_count("hit", "common")
        again = await voice.speak("pt-BR", COMMON)
        assert synth.misses == misses, "the common prompt was still in memory"
        assert again[1] == common
        assert _cache_count("hit", "common") == hits + 1
        # The personal renders were counted apart and stayed within their own budget.
        assert synth.common.size <= MEMORY_BYTES
        assert 0 < synth.personal.size <= synth.personal.budget
