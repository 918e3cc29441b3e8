"""Pyttsx3Synthesizer tests against the real engine (pyttsx3 + espeak-ng) in its worker."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ivr.audio import mulaw
from ivr.config import Settings
from ivr.voice import tts_worker
from ivr.voice.errors import TtsError
from ivr.voice.tts import Pyttsx3Synthesizer
from ivr.voice.tts_pool import Ticket

PT = "Olá, Maria. Aqui é a Financeira Boa Vista. Podemos conversar um minuto?"
EN = "Hello, Mary. This is Good View Finance. Do you have a minute to talk?"


def _words_duration_range(text: str, wpm: int) -> tuple[float, float]:
    """A generous band around the nominal duration of `text` at `wpm`."""
    nominal = len(text.split()) / wpm * 60.0
    return nominal * 0.4, nominal * 2.5 + 0.5


@pytest.fixture
async def synth(tmp_path: Path):
    s = Pyttsx3Synthesizer(tmp_path / "tts")
    await s.start()
    yield s
    await s.close()


@pytest.mark.parametrize(("text", "locale"), [(PT, "pt-BR"), (EN, "en-US")])
async def test_renders_audible_mulaw_of_plausible_duration(synth: Pyttsx3Synthesizer, text, locale):
    audio = await synth.render(text, locale)
    seconds = len(audio) / mulaw.SAMPLE_RATE
    low, high = _words_duration_range(text, synth.rate)
    assert low < seconds < high
    assert mulaw.rms_dbfs(audio) > -35.0
    # Speech, not a constant tone: the level varies between 20 ms frames.
    levels = [mulaw.rms_dbfs(f) for f in mulaw.frames(audio)]
    assert max(levels) - min(levels) > 20.0


async def test_output_is_8khz_pcm_band_limited(synth: Pyttsx3Synthesizer):
    audio = await synth.render(EN, "en-US")
    pcm = mulaw.decode(audio).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(pcm))
    freqs = np.fft.rfftfreq(pcm.size, 1 / mulaw.SAMPLE_RATE)
    speech_band = spectrum[(freqs > 200) & (freqs < 3400)].sum()
    assert speech_band > 0.5 * spectrum.sum()


async def test_voice_follows_locale_and_rate_changes_duration(synth: Pyttsx3Synthesizer):
    pt = await synth.render("Bom dia", "pt-BR")
    en = await synth.render("Bom dia", "en-US")
    assert pt != en
    slow = await synth.render(EN, "en-US", rate=110)
    fast = await synth.render(EN, "en-US", rate=220)
    assert len(slow) > 1.4 * len(fast)


async def test_second_render_hits_memory_and_a_new_synthesizer_hits_disk(tmp_path: Path):
    cache = tmp_path / "tts"
    async with Pyttsx3Synthesizer(cache) as first:
        a = await first.render(PT, "pt-BR")
        b = await first.render(PT, "pt-BR")
        assert a == b
        assert (first.hits, first.misses) == (1, 1)
    files = list(cache.rglob("*.ulaw"))
    assert len(files) == 1 and files[0].read_bytes() == a
    assert not list(cache.rglob("*.tmp"))

    async with Pyttsx3Synthesizer(cache) as second:
        c = await second.render(PT, "pt-BR")
        assert c == a
        assert (second.hits, second.misses) == (1, 0)
        assert second.hit_ratio == 1.0
        await second.render(PT, "pt-BR", rate=120)  # another rate is another prompt
        assert second.misses == 1


async def test_whitespace_is_normalized_in_the_key(synth: Pyttsx3Synthesizer):
    await synth.render("Olá   Maria", "pt-BR")
    await synth.render(" Olá Maria\n", "pt-BR")
    assert (synth.hits, synth.misses) == (1, 1)


async def test_memory_cache_is_bounded_and_disk_still_answers(tmp_path: Path):
    async with Pyttsx3Synthesizer(tmp_path, memory_bytes=20_000) as s:
        texts = [f"Prompt number {n}" for n in range(6)]
        for t in texts:
            await s.render(t, "en-US")
        assert s.common.size <= 20_000
        await s.render(texts[0], "en-US")
        assert (s.hits, s.misses) == (1, 6)


async def test_concurrent_renders_all_succeed_on_the_pool(synth: Pyttsx3Synthesizer):
    texts = [f"Parcela número {n} de {n + 3}" for n in range(24)]
    pids = synth.worker_pids
    assert len(pids) >= 2
    results = await asyncio.gather(*(synth.render(t, "pt-BR") for t in texts))
    assert all(len(r) > mulaw.SAMPLE_RATE // 4 for r in results)
    assert len(set(results)) == len(texts)
    assert synth.misses == len(texts) and synth.restarts == 0
    assert synth.worker_pids == pids


async def test_a_prompt_is_rendered_while_another_worker_is_busy(tmp_path: Path):
    async with Pyttsx3Synthesizer(tmp_path, workers=2, timeout=60) as s:
        busy = asyncio.create_task(s._job({"op": "sleep", "seconds": 30}))
        await asyncio.sleep(0)
        audio = await s.render("Enquanto a outra trabalha", "pt-BR")
        assert mulaw.rms_dbfs(audio) > -35.0
        assert not busy.done(), "two jobs ran at once"
        busy.cancel()
        with pytest.raises(asyncio.CancelledError):
            await busy


async def _finishing_order(s: Pyttsx3Synthesizer, jobs: dict[str, Any]) -> list[str]:
    """Names of ``jobs`` (awaitables) in the order they finished."""
    done: list[str] = []

    async def run(name: str, job: Any) -> None:
        await job
        done.append(name)

    await asyncio.gather(*(run(name, job) for name, job in jobs.items()))
    return done


async def _queued(s: Pyttsx3Synthesizer, jobs: int) -> None:
    """Until ``jobs`` renders wait for a worker."""
    async with asyncio.timeout(5):
        while len(s._pool._waiting) < jobs:  # noqa: ASYNC110 - the pool's own queue
            await asyncio.sleep(0.005)


async def test_a_render_a_caller_waits_for_goes_before_renders_made_ahead(tmp_path: Path):
    async with Pyttsx3Synthesizer(tmp_path, workers=1) as s:
        busy = asyncio.create_task(s._job({"op": "sleep", "seconds": 1}))
        await asyncio.sleep(0)  # the only worker is busy: everything below queues
        ahead = [
            asyncio.create_task(s.prerender([f"Frase {n} de antemão"], "pt-BR")) for n in (1, 2)
        ]
        await _queued(s, 2)
        order = await _finishing_order(
            s,
            {
                "ahead 1": ahead[0],
                "ahead 2": ahead[1],
                "caller": s.render("Resposta para quem espera", "pt-BR"),
            },
        )
        await busy
        assert order[0] == "caller"


async def test_a_render_made_ahead_is_promoted_when_a_caller_needs_it(tmp_path: Path):
    async with Pyttsx3Synthesizer(tmp_path, workers=1) as s:
        busy = asyncio.create_task(s._job({"op": "sleep", "seconds": 1}))
        await asyncio.sleep(0)
        first = asyncio.create_task(s.prerender(["Uma frase qualquer"], "pt-BR"))
        await _queued(s, 1)
        second = asyncio.create_task(s.prerender(["A resposta provável"], "pt-BR"))
        await _queued(s, 2)  # both wait for the worker, in that order
        order = await _finishing_order(
            s,
            {
                "ahead": first,
                "needed": s.render("A resposta provável", "pt-BR"),
            },
        )
        await asyncio.gather(busy, second)
        assert order == ["needed", "ahead"]
        assert s.misses == 2, "the caller's render joined the one made ahead"


async def test_identical_concurrent_renders_synthesize_once(synth: Pyttsx3Synthesizer):
    results = await asyncio.gather(
        *(synth.render("Um momento, por favor.", "pt-BR") for _ in range(10))
    )
    assert len(set(results)) == 1
    assert (synth.hits, synth.misses) == (9, 1)


async def test_prerender_warms_the_cache(synth: Pyttsx3Synthesizer):
    texts = ["Bom dia", "Boa tarde", "Bom dia"]
    assert await synth.prerender(texts, "pt-BR") == 2
    assert await synth.prerender(texts, "pt-BR") == 0
    await synth.render("Boa tarde", "pt-BR")
    assert synth.misses == 2


async def test_renders_made_ahead_leave_a_worker_free_for_a_caller(tmp_path: Path):
    async with Pyttsx3Synthesizer(tmp_path, workers=2) as s:
        ahead = asyncio.create_task(s._pool.job({"op": "sleep", "seconds": 1}, Ticket(False)))
        await asyncio.sleep(0)
        more = asyncio.create_task(s.prerender(["Mais uma de antemão"], "pt-BR"))
        await _queued(s, 1)  # a worker is idle, but it is the last one
        audio = await s.render("Quem espera não espera", "pt-BR")
        assert mulaw.rms_dbfs(audio) > -35.0
        assert not ahead.done() and not more.done() and len(s._pool._waiting) == 1
        await asyncio.gather(ahead, more)


async def test_hung_job_is_killed_and_retried_once(tmp_path: Path):
    async with Pyttsx3Synthesizer(tmp_path, timeout=0.5) as s:
        first_pids = set(s.worker_pids)
        flag = tmp_path / "hang-once"
        flag.touch()
        # Hangs on the first try only: the retry on a fresh worker succeeds.
        reply = await s._job({"op": "sleep", "seconds": 30, "once_flag": str(flag)})
        assert reply["ok"] is True
        assert s.restarts == 1
        assert len(set(s.worker_pids) - first_pids) == 1, "one worker was replaced"
        assert await s.render("Ainda estou aqui", "pt-BR")


async def test_job_that_always_hangs_raises_and_the_next_render_works(tmp_path: Path):
    async with Pyttsx3Synthesizer(tmp_path, timeout=0.3) as s:
        with pytest.raises(TtsError, match=r"longer than 0\.3 s"):
            await s._job({"op": "sleep", "seconds": 30})
        assert s.restarts == 2
        audio = await s.render("Tudo certo agora", "pt-BR")
        assert mulaw.rms_dbfs(audio) > -35.0


async def test_worker_crash_is_survived(synth: Pyttsx3Synthesizer):
    pids = synth.worker_pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    assert await synth.render("Voltei", "pt-BR")
    assert set(synth.worker_pids) != set(pids), "a fresh worker rendered it"


async def test_missing_voice_stops_start_with_its_name(tmp_path: Path):
    s = Pyttsx3Synthesizer(tmp_path, voices={"pt-BR": "pt-br", "xx-XX": "zz-nonexistent"})
    with pytest.raises(TtsError, match="voice zz-nonexistent not found in espeak-ng"):
        await s.start()
    await s.close()
    with pytest.raises(TtsError, match="voice zz-nonexistent not found"):
        Pyttsx3Synthesizer.check(["pt-br", "zz-nonexistent"])


def test_check_names_the_engine():
    assert Pyttsx3Synthesizer.check().startswith("pyttsx3-")


async def test_unknown_locale_and_empty_text_are_refused(synth: Pyttsx3Synthesizer):
    with pytest.raises(TtsError, match="locale fr-FR"):
        await synth.render("Bonjour", "fr-FR")
    with pytest.raises(TtsError, match="empty"):
        await synth.render("   ", "pt-BR")


async def test_engine_output_never_reaches_our_stdout(synth: Pyttsx3Synthesizer, capfd):
    capfd.readouterr()
    await synth.render("Nada no stdout", "pt-BR")
    assert capfd.readouterr().out == ""


def test_from_settings_uses_cache_dir_and_rate(tmp_path: Path):
    s = Pyttsx3Synthesizer.from_settings(Settings(cache_dir=tmp_path, tts_rate=150))
    assert s.cache_dir == tmp_path / "tts" and s.rate == 150


def test_missing_library_message_says_what_to_install():
    with pytest.raises(tts_worker.WorkerError, match="espeak-ng is not installed: apt-get install"):
        tts_worker.check_library(["libespeak-ng-absent.so.9"])


def _write_wav(path: Path, samples: np.ndarray, rate: int = 22050) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def test_wav_reader_waits_for_a_file_written_late(tmp_path: Path):
    path = tmp_path / "late.wav"
    tone = (np.sin(np.arange(2205) / 5) * 8000).astype(np.int16)
    writer = threading.Timer(0.15, _write_wav, (path, tone))
    writer.start()
    started = time.monotonic()
    samples, rate = tts_worker.read_complete_wav(path, wait_s=5)
    writer.join()
    assert time.monotonic() - started >= 0.1
    assert rate == 22050 and np.array_equal(samples, tone)


def test_wav_reader_rejects_a_truncated_file(tmp_path: Path):
    path = tmp_path / "cut.wav"
    _write_wav(path, np.ones(4000, dtype=np.int16))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1000])  # header still claims 4000 frames
    with pytest.raises(tts_worker.WorkerError, match="no complete WAV"):
        tts_worker.read_complete_wav(path, wait_s=0.2)


async def test_cancelled_render_leaves_no_temporary_file(synth: Pyttsx3Synthesizer):
    long_text = " ".join(["Uma frase bem longa para demorar um pouco mais."] * 20)
    first = asyncio.create_task(synth.render(long_text, "pt-BR"))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(synth.render(long_text, "pt-BR"))  # waits on the first
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    # The waiter is not hurt by someone else's cancellation: it renders itself.
    audio = await second
    assert mulaw.rms_dbfs(audio) > -35.0
    assert await synth.render("Depois do cancelamento", "pt-BR")
    assert not list(synth.cache_dir.rglob("*.tmp"))


async def test_rate_out_of_range_is_refused(synth: Pyttsx3Synthesizer):
    with pytest.raises(TtsError, match="rate"):
        await synth.render("Oi", "pt-BR", rate=0)
