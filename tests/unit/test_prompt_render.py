"""``ivr prompts render``: every prompt of both locales through the real engine.

Rendering all wordings of both locales (166 files) took 15-16 s on two busy
cores (7-8 s per locale, most of it espeak-ng), so every wording is rendered,
once per module.
"""

from __future__ import annotations

import csv
import re
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from ivr import cli
from ivr.audio import mulaw
from ivr.dialog.prompts import LOCALES, PromptCatalog
from ivr.prompt_render import MAX_SECONDS, prompt_texts, sample_values

# Limits every rendered prompt must meet: MAX_SECONDS (20 s, see
# ivr.prompt_render for why) and levels well above silence or a broken render.
MIN_RMS_DBFS = -35.0
MIN_PEAK_DBFS = -12.0
MIN_SECONDS = 1.0


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, float]]:
    """Both locales rendered by the command into fresh folders, with the seconds it took."""
    root = tmp_path_factory.mktemp("render")
    out: dict[str, tuple[Path, float]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IVR_CACHE_DIR", str(root / "cache"))
        for locale in LOCALES:
            folder = root / locale
            started = time.monotonic()
            status = cli.main(["prompts", "render", "--locale", locale, "--out", str(folder)])
            assert status == 0, f"{locale}: some prompt broke a limit"
            out[locale] = (folder, time.monotonic() - started)
    return out


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return samples, rate


def _dbfs(value: float) -> float:
    return 20 * np.log10(max(value, 1e-9) / 32768.0)


@pytest.mark.parametrize("locale", LOCALES)
def test_one_readable_file_per_prompt_wording(rendered, locale: str):
    folder, _seconds = rendered[locale]
    catalog = PromptCatalog.load(locale)
    expected = {
        f"{prompt_id}-{n + 1}.wav"
        for prompt_id in catalog.prompts
        for n in range(catalog.variants(prompt_id))
    }
    assert {p.name for p in folder.glob("*.wav")} == expected
    with (folder / "index.tsv").open(encoding="utf-8") as index:
        rows = list(csv.DictReader(index, delimiter="\t"))
    assert {r["file"] for r in rows} == expected
    assert all(r["text"].strip() and "{" not in r["text"] for r in rows)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_rendered_prompt_is_audible_speech_under_the_length_limit(rendered, locale: str):
    folder, _seconds = rendered[locale]
    for path in sorted(folder.glob("*.wav")):
        samples, rate = _read_wav(path)
        assert rate == mulaw.SAMPLE_RATE, path.name  # what the telephone line carries
        seconds = samples.size / rate
        assert MIN_SECONDS < seconds < MAX_SECONDS, f"{path.name}: {seconds:.1f} s"
        as_float = samples.astype(np.float64)
        rms = _dbfs(float(np.sqrt(np.mean(as_float**2))))
        peak = _dbfs(float(np.max(np.abs(as_float))))
        assert rms > MIN_RMS_DBFS and peak > MIN_PEAK_DBFS, f"{path.name}: {rms:.1f}/{peak:.1f}"
        # Speech, not a tone or noise: 20 ms frames range from pauses to loud vowels.
        frames = as_float[: samples.size // 160 * 160].reshape(-1, 160)
        levels = [_dbfs(float(np.sqrt(np.mean(f**2)))) for f in frames]
        assert max(levels) - min(levels) > 30, path.name


def test_rendering_both_locales_stays_quick(rendered):
    total = sum(seconds for _folder, seconds in rendered.values())
    assert total < 120, f"rendering every prompt took {total:.0f} s"


def test_a_prompt_over_the_limit_is_reported(rendered, monkeypatch, capsys, tmp_path: Path):
    folder, _seconds = rendered["pt-BR"]
    monkeypatch.setenv("IVR_CACHE_DIR", str(folder.parent / "cache"))  # already rendered
    args = ["prompts", "render", "--out", str(tmp_path), "--first-wording", "--max-seconds", "9"]
    assert cli.main(args) == 3
    err = capsys.readouterr().err
    assert "greet-1.wav" in err and "longer than 9 s" in err
    assert "greet-2.wav" not in {p.name for p in tmp_path.glob("*.wav")}


def test_an_unknown_voice_stops_the_command_naming_the_setting(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("IVR_TTS_VOICE_EN_US", "zz-nonexistent")
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path / "cache"))
    assert cli.main(["prompts", "render", "--locale", "en-US", "--out", str(tmp_path)]) == 2
    assert "IVR_TTS_VOICE_EN_US" in capsys.readouterr().err


# What a synthesizer reads literally, skips or spells out (a symbol, a clock time,
# a word in capitals, a legal form): values must arrive in words.
# Acronyms people themselves say letter by letter, as the synthesizer does.
_SPELLED = re.compile(r"\bSMS\b")
_UNSPEAKABLE = re.compile(r"[$€%/#*@&<>{}\[\]]|\d:\d|\b[A-ZÀ-Ý]{2,}\b|\bS\.A\.|\bInc\.")


@pytest.mark.parametrize("locale", LOCALES)
def test_sample_values_fill_every_prompt_with_speakable_text(locale: str):
    catalog = PromptCatalog.load(locale)
    values = sample_values(locale)
    for prompt_id in catalog.prompts:
        assert catalog.placeholders(prompt_id) <= set(values), prompt_id
    for prompt in prompt_texts(catalog):
        text = _SPELLED.sub("", prompt.text)
        assert not _UNSPEAKABLE.search(text), (prompt.file_name, prompt.text)
