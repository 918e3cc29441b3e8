"""``ivr prompts render``: every prompt of a locale as a WAV file a person can listen to.

Why: prompt wording is reviewed as text, but the caller hears a synthesizer
over a telephone line, where a symbol read literally, a number read digit by
digit, a voice of the wrong gender or a prompt too long to follow only show up
when listened to. This renders each wording of each prompt, filled with sample
values through the same code a call uses (:mod:`ivr.dialog.prompt_values`,
so amounts, dates and phone numbers come out as the caller would hear them),
with the configured voice, through the service's own synthesizer and cache,
and writes what the line carries: 8 kHz mono, decoded from mu-law to 16-bit
PCM so any player opens it.

Next to the files, ``index.tsv`` lists each file with its length, levels and
text, and every file is checked against the limits below, so a prompt that
grew too long or came out silent is reported instead of shipped.

The catalog's ``lines`` (hold, queue, whisper) are not rendered: the carrier's
``<Say>`` speaks them, not this voice.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import math
import sys
import time
import wave
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ivr.audio import mulaw
from ivr.config import Settings, SettingsError
from ivr.dialog.events import CallContext
from ivr.dialog.flow_guards import CallerAnswers
from ivr.dialog.prompt_values import base_variables, call_variables
from ivr.dialog.prompts import PromptCatalog
from ivr.voice.errors import TtsError
from ivr.voice.tts import Pyttsx3Synthesizer

#: The longest a prompt may take. The longest wordings today take 17-18 s at
#: 160 words per minute with the sample values (``ask_payment_date`` 1, the
#: first greeting); 20 s leaves room for a longer name or amount, and a prompt
#: that needs more asks the caller to hold too much at once and should be split.
MAX_SECONDS = 20.0
#: Below these levels a prompt is taken as silent or broken. Speech from
#: espeak-ng comes out near -20 dBFS RMS with peaks near -3 dBFS.
MIN_RMS_DBFS = -35.0
MIN_PEAK_DBFS = -12.0
#: A fixed "today" (a Wednesday) so that renders are the same on every run
#: and the dates in them ("amanhã", the weekday) can be checked by ear.
SAMPLE_TODAY = dt.date(2025, 11, 26)

_PEOPLE = {
    # locale: (first name, company, creditor, callback number, currency), written
    # the way portfolios send them: names in capitals, creditors with a legal form.
    "pt-BR": ("ANA", "Central de Atendimento", "Banco Horizonte S.A.", "+551130034567", "BRL"),
    "en-US": ("AMY", "Customer Care Center", "Acme Retail, Inc.", "+12125550148", "USD"),
}


@dataclass(frozen=True)
class PromptText:
    """One wording of one prompt, filled with sample values."""

    prompt_id: str
    wording: int  # 1-based, as a person counts them
    text: str

    @property
    def file_name(self) -> str:
        return f"{self.prompt_id}-{self.wording}.wav"


@dataclass(frozen=True)
class RenderedPrompt:
    """A written WAV file and what it measured."""

    prompt: PromptText
    path: Path
    seconds: float
    rms_dbfs: float
    peak_dbfs: float

    def problems(self, max_seconds: float = MAX_SECONDS) -> list[str]:
        """Why this prompt fails the limits, in words (empty: it passes)."""
        found = []
        if self.seconds > max_seconds:
            found.append(f"{self.seconds:.1f} s is longer than {max_seconds:g} s")
        if self.rms_dbfs < MIN_RMS_DBFS or self.peak_dbfs < MIN_PEAK_DBFS:
            found.append(f"too quiet (RMS {self.rms_dbfs:.1f} dBFS, peak {self.peak_dbfs:.1f})")
        return found


_SECOND_PERSON = {"pt-BR": "BRUNO", "en-US": "BEN"}


def sample_context(locale: str) -> CallContext:
    """A debtor to fill the prompts with: an amount with thousands, a due date
    this year, two installments, a callback number of the locale."""
    first_name, company, creditor, number, currency = _PEOPLE[locale]
    ctx = CallContext(
        locale=locale,
        first_name=first_name,
        creditor=creditor,
        company=company,
        amount_cents=105_000,  # R$ 1.050,00: a thousand and a "zero" hundred
        currency=currency,
        due_date=SAMPLE_TODAY - dt.timedelta(days=16),
        today=SAMPLE_TODAY,
        birth_year=1984,
        installments=2,  # "duas parcelas": the count agrees with a feminine noun
        callback_number=number,
        recorded=True,  # the longer notice, with "this call is recorded"
    )
    # Two people on one number, for the inbound "which of you is calling?"
    other = replace(ctx, first_name=_SECOND_PERSON[locale])
    return replace(ctx, candidates=(ctx, other))


def sample_answers() -> CallerAnswers:
    """A caller who promised part of it for Friday and asked for a call tomorrow at
    3 pm, first named Saturday (moved to Monday), and proposed half today and the
    rest on the 10th of next month."""
    return CallerAnswers(
        promise_date=SAMPLE_TODAY + dt.timedelta(days=2),
        promise_amount_cents=52_050,  # with cents, and a "zero" in the middle
        callback_date=SAMPLE_TODAY + dt.timedelta(days=1),
        callback_time=dt.time(15, 0),
        moved=(SAMPLE_TODAY + dt.timedelta(days=3), SAMPLE_TODAY + dt.timedelta(days=5)),
        split=((SAMPLE_TODAY, 52_500), (dt.date(2025, 12, 10), 52_500)),
    )


def sample_values(locale: str, catalog: PromptCatalog | None = None) -> dict[str, str]:
    """Every placeholder a prompt may use, as a recorded call of ``locale`` would
    fill it (``catalog``: that locale's, loaded when not given)."""
    ctx = sample_context(locale)
    catalog = catalog or PromptCatalog.load(locale)
    return call_variables(ctx, sample_answers(), base_variables(ctx, catalog))


def prompt_texts(catalog: PromptCatalog, all_wordings: bool = True) -> list[PromptText]:
    """Each wording (or only the first) of each prompt, filled with sample values."""
    values = sample_values(catalog.locale, catalog)
    out = []
    for prompt_id in sorted(catalog.prompts):
        count = catalog.variants(prompt_id) if all_wordings else 1
        for n in range(count):
            text = catalog.render(prompt_id, values, n)
            out.append(PromptText(prompt_id, n + 1, text))
    return out


def audio_levels(ulaw: bytes) -> tuple[float, float, float]:
    """(seconds, RMS dBFS, peak dBFS) of 8 kHz mu-law audio."""
    samples = mulaw.decode(ulaw)
    peak = int(np.max(np.abs(samples.astype(np.int32)))) if samples.size else 0
    peak_dbfs = 20.0 * math.log10(peak / 32768.0) if peak else -math.inf
    return samples.size / mulaw.SAMPLE_RATE, mulaw.rms_dbfs(ulaw), peak_dbfs


def write_wav(path: Path, ulaw: bytes) -> None:
    """8 kHz mono 16-bit PCM: what the line carries, in a file any player opens."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(mulaw.SAMPLE_RATE)
        wav.writeframes(mulaw.decode_bytes(ulaw))


async def render_prompts(
    synth: Pyttsx3Synthesizer, prompts: list[PromptText], locale: str, out_dir: Path
) -> list[RenderedPrompt]:
    """Synthesize each prompt and write it as ``<prompt_id>-<wording>.wav`` in ``out_dir``."""
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    rendered = []
    for prompt in prompts:
        ulaw = await synth.render(prompt.text, locale)
        path = out_dir / prompt.file_name
        await asyncio.to_thread(write_wav, path, ulaw)
        seconds, rms, peak = audio_levels(ulaw)
        rendered.append(RenderedPrompt(prompt, path, seconds, rms, peak))
    return rendered


def write_index(out_dir: Path, rendered: list[RenderedPrompt]) -> Path:
    """``index.tsv``: file, prompt, wording, seconds, levels and text, to read along."""
    path = out_dir / "index.tsv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["file", "prompt", "wording", "seconds", "rms_dbfs", "peak_dbfs", "text"])
        for r in rendered:
            p = r.prompt
            row = [p.file_name, p.prompt_id, p.wording, f"{r.seconds:.2f}"]
            writer.writerow([*row, f"{r.rms_dbfs:.1f}", f"{r.peak_dbfs:.1f}", p.text])
    return path


def summary(rendered: list[RenderedPrompt], elapsed_s: float) -> str:
    """One line: how many, how long the shortest and longest are, the quietest."""
    if not rendered:
        return "no prompts rendered"
    lengths = [r.seconds for r in rendered]
    quietest = min(rendered, key=lambda r: r.rms_dbfs)
    longest = max(rendered, key=lambda r: r.seconds)
    return (
        f"{len(rendered)} prompt(s) in {elapsed_s:.1f} s; length {min(lengths):.1f}-"
        f"{max(lengths):.1f} s (longest {longest.prompt.file_name}); lowest RMS "
        f"{quietest.rms_dbfs:.1f} dBFS ({quietest.prompt.file_name})"
    )


async def render_locale(
    settings: Settings, locale: str, out_dir: Path, *, all_wordings: bool = True
) -> tuple[list[RenderedPrompt], float]:
    """Render the locale's prompts with the configured voice; returns them and the seconds taken."""
    catalog = PromptCatalog.load(locale)
    prompts = prompt_texts(catalog, all_wordings)
    synth = Pyttsx3Synthesizer.from_settings(settings)
    started = time.monotonic()
    try:
        try:
            await synth.start()
        except TtsError as exc:
            raise SettingsError(str(exc)) from None
        rendered = await render_prompts(synth, prompts, locale, out_dir)
    finally:
        await synth.close()
    await asyncio.to_thread(write_index, out_dir, rendered)
    return rendered, time.monotonic() - started


def run_render(
    settings: Settings,
    locale: str,
    out_dir: Path,
    first_wording_only: bool = False,
    max_seconds: float | None = None,
) -> int:
    """``ivr prompts render``: render, print a summary and each prompt over a
    limit (on stderr); exit status 3 when there is one."""
    rendered, elapsed = asyncio.run(
        render_locale(settings, locale, out_dir, all_wordings=not first_wording_only)
    )
    voice = settings.voice_profiles()[locale]
    print(f"{locale}, voice {voice.espeak_name} (pitch {voice.pitch}): {out_dir}/index.tsv")
    print(summary(rendered, elapsed))
    limit = MAX_SECONDS if max_seconds is None else max_seconds
    failed = [(r, problems) for r in rendered if (problems := r.problems(limit))]
    for r, problems in failed:
        print(f"  {r.prompt.file_name}: {'; '.join(problems)}", file=sys.stderr)
    return 3 if failed else 0
