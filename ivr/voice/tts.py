"""Prompt synthesis: text in, 8 kHz mu-law out, cached on disk and in memory.

Synthesis happens in child processes (:mod:`ivr.voice.tts_pool`, one engine
each): a small pool, so calls that need a fresh reply at the same moment do
not wait for each other, and a render made ahead of need never delays one a
caller is waiting for.

Rendered audio is cached by the SHA-256 of (engine and version, voice and
variant, rate, pitch, text), so fixed prompts are synthesized once per machine,
personal ones (name, amount, date) once per debtor, ahead of need when they
can be, and a changed voice setting is never answered with old audio. Disk
writes are atomic (temporary file + rename) so a crash never leaves a
truncated prompt behind.

Memory holds two caches: the common prompts (the same words for every
caller, used all day) and a small one for the personal renders (a name, an
amount: one call uses them, within minutes). Kept in one, a long campaign's
personal renders would push the common prompts out while memory grows to
the whole budget; kept apart, the common prompts stay and memory levels off
early. A personal render that has left memory is still read from disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from ivr import metrics
from ivr.config import Settings
from ivr.voice.errors import TtsError
from ivr.voice.profile import (
    DEFAULT_PROFILES,
    VoiceProfile,
    unknown_voice_message,
    warn_on_gender_mismatch,
)
from ivr.voice.tts_pool import WORKER_MODULE, Ticket, WorkerPool, default_workers, worker_env

DEFAULT_VOICES: Mapping[str, VoiceProfile] = DEFAULT_PROFILES
DEFAULT_RATE = 160
DEFAULT_TIMEOUT_S = 10.0
AUDIO_FORMAT = "ulaw-8000-mono-v1"
COMMON_MEMORY_BYTES = 32 * 1024 * 1024
PERSONAL_MEMORY_BYTES = 4 * 1024 * 1024
"""About 100 personal prompts of five seconds: those of the calls being prepared or under way."""


class BytesLru:
    """Renders by cache key, least recently used first out beyond ``budget`` bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> bytes | None:
        data = self._items.get(key)
        if data is not None:
            self._items.move_to_end(key)
        return data

    def pop(self, key: str) -> bytes | None:
        data = self._items.pop(key, None)
        if data is not None:
            self.size -= len(data)
        return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.budget:
            return
        self.pop(key)
        self._items[key] = data
        self.size += len(data)
        while self.size > self.budget:
            _, evicted = self._items.popitem(last=False)
            self.size -= len(evicted)


class Pyttsx3Synthesizer:
    """Async facade over the synthesis workers, with a two-level prompt cache.

    The service's :class:`~ivr.voice.interfaces.Synthesizer`. :meth:`render`
    is for a caller who is waiting; :meth:`prerender` is ahead of need and
    yields the workers to any render a caller waits for.

    ``hits`` counts renders answered from memory, disk or an identical render
    already in flight; ``misses`` counts renders that ran the engine. A
    render is ``personal`` when its words belong to one call (see the
    module's docstring); the metric counts the two kinds apart.
    """

    def __init__(
        self,
        cache_dir: Path | str,
        *,
        voices: Mapping[str, VoiceProfile | str] | None = None,
        rate: int = DEFAULT_RATE,
        timeout: float = DEFAULT_TIMEOUT_S,
        memory_bytes: int = COMMON_MEMORY_BYTES,
        personal_bytes: int = PERSONAL_MEMORY_BYTES,
        python: str = sys.executable,
        workers: int | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        chosen = DEFAULT_VOICES if voices is None else voices
        self.voices = {locale: VoiceProfile.of(v) for locale, v in chosen.items()}
        self.rate = rate
        self.timeout = timeout
        self.hits = 0
        self.misses = 0
        self.engine: str | None = None
        self._pool = WorkerPool(workers or default_workers(), timeout, python)
        self._start_lock = asyncio.Lock()
        self.common = BytesLru(memory_bytes)
        self.personal = BytesLru(personal_bytes)
        self._inflight: dict[str, tuple[asyncio.Future[bytes], Ticket]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Pyttsx3Synthesizer:
        voices = {**DEFAULT_VOICES, **settings.voice_profiles()}
        return cls(settings.cache_dir / "tts", voices=voices, rate=settings.tts_rate, **kwargs)

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def check(
        cls, voices: Iterable[VoiceProfile | str] | None = None, python: str = sys.executable
    ) -> str:
        """Check engine and voices in a throw-away worker; return the engine name.

        Blocking (about a quarter of a second): meant for start-up and the CLI.
        Raises :class:`TtsError` naming what is missing.
        """
        asked = DEFAULT_VOICES.values() if voices is None else voices
        wanted = [VoiceProfile.of(v) for v in asked]
        try:
            done = subprocess.run(
                [python, "-m", WORKER_MODULE, "--check", *(p.espeak_name for p in wanted)],
                capture_output=True,
                text=True,
                timeout=30,
                env=worker_env(),
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TtsError(f"speech synthesis worker did not start: {exc}") from exc
        lines = done.stdout.strip().splitlines()
        if not lines:
            raise TtsError(f"speech synthesis worker failed: {done.stderr.strip()[-500:]}")
        return cls._engine_from_info(json.loads(lines[-1]), wanted)

    @staticmethod
    def _engine_from_info(reply: dict[str, Any], profiles: Iterable[VoiceProfile] = ()) -> str:
        if not reply.get("ok"):
            raise TtsError(str(reply.get("error")))
        if problem := unknown_voice_message(reply, profiles):
            raise TtsError(problem)
        return str(reply["engine"])

    async def start(self) -> None:
        """Start the workers and check the engine and every configured voice."""
        async with self._start_lock:
            if self.engine is not None:
                return
            await self._pool.start()
            names = sorted({p.espeak_name for p in self.voices.values()})
            reply = await self._job({"op": "info", "voices": names})
            self.engine = self._engine_from_info(reply, self.voices.values())
            warn_on_gender_mismatch(self.voices, reply)

    async def close(self) -> None:
        """Stop the workers (politely, then by force)."""
        await self._pool.close()

    async def __aenter__(self) -> Pyttsx3Synthesizer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def worker_pids(self) -> list[int]:
        """The running workers' process ids."""
        return self._pool.pids

    @property
    def restarts(self) -> int:
        """Workers killed and restarted after a stuck or failed job."""
        return self._pool.restarts

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    # ------------------------------------------------------------ rendering

    def voice_for(self, locale: str) -> VoiceProfile:
        try:
            return self.voices[locale]
        except KeyError:
            raise TtsError(f"no synthesis voice configured for locale {locale}") from None

    def cache_key(self, text: str, voice: str, rate: int, pitch: int) -> str:
        if self.engine is None:
            raise TtsError("synthesizer not started")
        material = json.dumps(
            [self.engine, AUDIO_FORMAT, voice, rate, pitch, text],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.ulaw"

    async def render(
        self, text: str, locale: str, rate: int | None = None, *, personal: bool = False
    ) -> bytes:
        """Return ``text`` spoken in ``locale`` as 8 kHz mono mu-law bytes (a
        caller is waiting: served before any render made ahead of need)."""
        return await self._render(text, locale, rate, urgent=True, personal=personal)

    async def prerender(
        self,
        texts: Iterable[str],
        locale: str,
        rate: int | None = None,
        *,
        personal: bool = False,
    ) -> int:
        """Warm the cache with ``texts``, one at a time and behind every render a
        caller waits for; returns how many had to be synthesized."""
        before = self.misses
        for text in dict.fromkeys(texts):
            await self._render(text, locale, rate, urgent=False, personal=personal)
        return self.misses - before

    def _recall(self, key: str, personal: bool) -> bytes | None:
        """From memory; a personal render asked for as a common one becomes common."""
        cached = self.common.get(key)
        if cached is None and (cached := self.personal.get(key)) is not None and not personal:
            self.personal.pop(key)
            self.common.put(key, cached)
        return cached

    def _remember(self, key: str, data: bytes, personal: bool) -> None:
        (self.personal if personal else self.common).put(key, data)

    async def _render(
        self, text: str, locale: str, rate: int | None, *, urgent: bool, personal: bool
    ) -> bytes:
        text = " ".join(text.split())
        if not text:
            raise TtsError("nothing to synthesize: empty text")
        profile = self.voice_for(locale)
        voice, pitch = profile.espeak_name, profile.pitch
        rate = (profile.rate or self.rate) if rate is None else rate
        if not 20 <= rate <= 500:
            raise TtsError(f"speech rate must be 20..500 words per minute, got {rate}")
        await self.start()
        key = self.cache_key(text, voice, rate, pitch)

        cached = self._recall(key, personal)
        if cached is not None:
            self.hits += 1
            metrics.prompt_cache(True, personal)
            return cached
        while (inflight := self._inflight.get(key)) is not None:
            pending, ticket = inflight
            if urgent:
                ticket.promote()  # made ahead of need, and now a caller needs it
            try:
                data = await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if pending.cancelled() and not (task and task.cancelling()):
                    continue  # the task rendering it was cancelled, not us: try again
                raise
            self.hits += 1
            metrics.prompt_cache(True, personal)
            return data

        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        ticket = Ticket(urgent)
        self._inflight[key] = (future, ticket)
        try:
            stored = await asyncio.to_thread(_read_or_none, self._path(key))
            if stored is not None:
                self.hits += 1
                metrics.prompt_cache(True, personal)
                result = stored
            else:
                self.misses += 1
                metrics.prompt_cache(False, personal)
                result = await self._synthesize(key, text, voice, rate, pitch, ticket)
            self._remember(key, result, personal)
            future.set_result(result)
            return result
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: nobody else may be waiting
            raise
        finally:
            del self._inflight[key]

    async def _synthesize(
        self, key: str, text: str, voice: str, rate: int, pitch: int, ticket: Ticket
    ) -> bytes:
        final = self._path(key)
        tmp = final.with_name(f".{key}.{uuid.uuid4().hex}.tmp")
        await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
        job = dict(op="render", text=text, voice=voice, rate=rate, pitch=pitch, out=str(tmp))
        try:
            # The worker may still write the file after we stop waiting. It
            # runs jobs in order, so it is done with it by its next reply.
            await self._pool.job(job, ticket, on_cancel=lambda w: w.orphans.append(tmp))
            return await asyncio.to_thread(_publish, tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(tmp.unlink)

    async def _job(self, job: dict[str, Any], limit_s: float | None = None) -> dict[str, Any]:
        """Run one job on a worker: kill and restart it on a timeout, retry once."""
        return await self._pool.job(job, limit_s=limit_s)


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _publish(tmp: Path, final: Path) -> bytes:
    """Atomically move a finished render into the cache and return its bytes."""
    data = tmp.read_bytes()
    if not data:
        raise TtsError("synthesis produced no audio")
    os.replace(tmp, final)
    return data
