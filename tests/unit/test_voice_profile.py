"""Voice per locale: settings, start-up checks against espeak-ng, cache keys, gender."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import structlog

from ivr.config import SettingsError, load_settings
from ivr.dialog.prompts import PromptCatalog
from ivr.voice.errors import TtsError
from ivr.voice.profile import DEFAULT_PROFILES, PROMPT_SPEAKER_GENDER, VoiceProfile
from ivr.voice.tts import Pyttsx3Synthesizer


def _worker_info(*names: str) -> dict[str, Any]:
    """The worker's ``info`` reply, from a throw-away worker process (the engine
    never runs inside the test process)."""
    done = subprocess.run(
        [sys.executable, "-m", "ivr.voice.tts_worker", "--check", *names],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    reply: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return reply


def test_defaults_give_each_locale_a_female_variant():
    profiles = load_settings().voice_profiles()
    assert profiles["pt-BR"] == VoiceProfile("pt-br", "f4")
    assert profiles["en-US"] == VoiceProfile("en-us", "f4")
    assert profiles["pt-BR"].espeak_name == "pt-br+f4"
    assert profiles["pt-BR"].setting_name("variant") == "IVR_TTS_VARIANT_PT_BR"


def test_environment_sets_voice_variant_rate_and_pitch(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IVR_TTS_VOICE_EN_US", "en-gb")
    monkeypatch.setenv("IVR_TTS_VARIANT_EN_US", "+m3")
    monkeypatch.setenv("IVR_TTS_RATE_EN_US", "150")
    monkeypatch.setenv("IVR_TTS_PITCH_EN_US", "40")
    profile = load_settings().voice_profiles()["en-US"]
    assert profile == VoiceProfile("en-gb", "m3", rate=150, pitch=40)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IVR_TTS_VOICE_PT_BR", "pt-br+f4", "takes no \\+variant"),
        ("IVR_TTS_VOICE_PT_BR", "pt br", "espeak-ng voice name"),
        ("IVR_TTS_VARIANT_PT_BR", "f 4", "espeak-ng variant"),
        ("IVR_TTS_PITCH_PT_BR", "100", "less than or equal to 99"),
        ("IVR_TTS_RATE_EN_US", "20", "greater than or equal to 80"),
    ],
)
def test_malformed_voice_settings_stop_loading_with_their_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"{name}: .*{message}"):
        load_settings()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tts_voice_pt_br": "zz-nonexistent"}, "voice zz-nonexistent .*IVR_TTS_VOICE_PT_BR"),
        ({"tts_variant_en_us": "nosuch"}, "variant nosuch .*IVR_TTS_VARIANT_EN_US"),
    ],
)
async def test_unknown_voice_or_variant_stops_start_naming_the_setting(
    tmp_path: Path, overrides: dict[str, str], message: str
):
    synth = Pyttsx3Synthesizer.from_settings(load_settings(cache_dir=tmp_path, **overrides))
    try:
        with pytest.raises(TtsError, match=message):
            await synth.start()
    finally:
        await synth.close()


async def test_variant_and_pitch_are_part_of_the_cache_key(tmp_path: Path):
    text = "Obrigada pela atenção."
    heard: dict[str, bytes] = {}
    for name, profile in {
        "f4": VoiceProfile("pt-br", "f4"),
        "m3": VoiceProfile("pt-br", "m3"),
        "f4-low": VoiceProfile("pt-br", "f4", pitch=20),
    }.items():
        async with Pyttsx3Synthesizer(tmp_path, voices={"pt-BR": profile}) as synth:
            heard[name] = await synth.render(text, "pt-BR")
            assert (synth.hits, synth.misses) == (0, 1), name  # never the other voice's file
    assert len(set(heard.values())) == 3


async def test_profile_rate_wins_over_the_default_and_a_call_argument_over_both(tmp_path: Path):
    voices = {"en-US": VoiceProfile("en-us", "f4", rate=120)}
    async with Pyttsx3Synthesizer(tmp_path, voices=voices, rate=240) as synth:
        slow = await synth.render("Thank you for your patience today.", "en-US")
        fast = await synth.render("Thank you for your patience today.", "en-US", rate=240)
    assert len(slow) > 1.4 * len(fast)


def test_worker_names_the_gender_of_each_voice():
    info = _worker_info("pt-br+f4", "pt-br+m3", "pt-br", "pt-br+zz", "zz+f4")
    assert info["genders"] == {"pt-br+f4": "female", "pt-br+m3": "male", "pt-br": "male"}
    assert info["missing"] == ["zz"] and info["missing_variants"] == ["zz"]


def test_default_pt_br_voice_agrees_with_the_prompts_in_gender():
    """The prompts thank as a woman ("Obrigada") and the default voice is a woman's."""
    assert PROMPT_SPEAKER_GENDER["pt-BR"] == "female"
    default = DEFAULT_PROFILES["pt-BR"].espeak_name
    assert _worker_info(default)["genders"][default] == "female"
    catalog = PromptCatalog.load("pt-BR")
    texts = [t for wordings in catalog.prompts.values() for t in wordings]
    texts += list(catalog.lines.values())
    said = " ".join(texts)
    assert re.search(r"\bObrigada\b", said, re.IGNORECASE)
    assert not re.search(r"\bobrigado\b", said, re.IGNORECASE)


async def test_a_voice_of_the_other_gender_is_warned_about(tmp_path: Path):
    settings = load_settings(cache_dir=tmp_path, tts_variant_pt_br="m3")
    with structlog.testing.capture_logs() as logs:
        async with Pyttsx3Synthesizer.from_settings(settings):
            pass
    warnings = [e for e in logs if e["event"] == "tts.voice_gender"]
    assert len(warnings) == 1
    assert "pt-br+m3 is male" in warnings[0]["problem"]
    assert "IVR_TTS_VARIANT_PT_BR" in warnings[0]["problem"]
