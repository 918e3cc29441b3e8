"""The synthesis worker: a child process that owns the one pyttsx3 engine.

Why a separate process: pyttsx3's engine is a per-process singleton whose run
loop cannot be entered from two threads ("run loop already started"), the
espeak driver prints to stdout, and a stuck synthesis can only be stopped by
killing whoever runs it. :mod:`ivr.voice.tts_pool` starts a few of them
with ``python -m ivr.voice.tts_worker`` and talks to each with one JSON object
per line: requests on stdin, replies on the *original* stdout, which this
module keeps for itself before pointing file descriptor 1 at ``/dev/null`` so
that nothing the engine prints can corrupt the protocol or reach the
service's own stdout.

Requests (each carries an ``id`` echoed in the reply):

- ``{"op": "info", "voices": [...]}``: engine name/version, which of the
  voices (espeak-ng's ``voice+variant`` spelling) are missing, and the gender
  each speaks in. Replies ``{"ok": true, "engine": ..., "missing": [voice...],
  "missing_variants": [variant...], "genders": {name: "female"|"male"|null}}``.
- ``{"op": "render", "text", "voice", "rate", "pitch", "out"}``: synthesize,
  wait for a complete WAV, convert to 8 kHz mu-law and write it to ``out``.
  Replies ``{"ok": true, "seconds": ...}``.
- ``{"op": "sleep", "seconds", "once_flag"}``: a test hook that simulates a
  stuck job (only when ``once_flag`` is null or names an existing file, which
  is removed first).

``python -m ivr.voice.tts_worker --check VOICE...`` prints one ``info`` reply
and exits: a cheap start-up check that leaves no engine behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile
import time
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ivr.audio import mulaw
from ivr.audio.pcm import pcm16_array

LIBRARY_NAMES = ("libespeak-ng.so.1", "libespeak-ng.so", "libespeak-ng.1.dylib")
INSTALL_HINT = "apt-get install espeak-ng libespeak-ng1 espeak-ng-data"
WAV_WAIT_S = 5.0
WAV_POLL_S = 0.005
RENDER_ATTEMPTS = 3
IDLE_WAIT_S = 2.0
DEFAULT_PITCH = 50
GENDERS: dict[int, str | None] = {0: None, 1: "male", 2: "female"}


class WorkerError(Exception):
    """A request failed; the message goes back to the parent as is."""


def check_library(names: Sequence[str] = LIBRARY_NAMES) -> str:
    """Load libespeak-ng by name and return its version, or explain what to install."""
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        info = lib.espeak_Info
        info.restype = ctypes.c_char_p
        info.argtypes = [ctypes.c_void_p]
        version = info(None)
        return version.decode("ascii", "replace") if version else "unknown"
    raise WorkerError(f"espeak-ng is not installed: {INSTALL_HINT}")


def read_complete_wav(path: Path, wait_s: float = WAV_WAIT_S) -> tuple[np.ndarray, int]:
    """Wait until ``path`` is a complete WAV and return its samples and rate.

    The engine's run loop can return before the file is on disk, so "complete"
    means: it exists, its header parses, and its data length matches the
    header. The header is written first with the length of all the data (the
    ``wave`` module does so on the first write), so a file still being written
    is shorter than it says. It is read at once, and looked at again every few
    milliseconds only while it is not complete: a wait here is a wait in the
    caller's turn.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if path.stat().st_size >= 44:
                with wave.open(str(path), "rb") as wav:
                    if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                        raise WorkerError(f"unexpected WAV format in {path}")
                    frames = wav.getnframes()
                    data = wav.readframes(frames)
                    if len(data) == frames * 2:
                        return pcm16_array(data), wav.getframerate()
        except (FileNotFoundError, EOFError, wave.Error):
            pass
        if time.monotonic() > deadline:
            raise WorkerError(f"synthesis produced no complete WAV file within {wait_s:.0f} s")
        time.sleep(WAV_POLL_S)


class Worker:
    """Holds the engine (created on first use) and answers requests."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._errors: list[BaseException] = []
        self._voices: dict[str, str] | None = None
        self._genders: dict[str, str | None] = {}
        self._variants: dict[str, str | None] | None = None
        self._espeak_version = ""

    def _engine_or_fail(self) -> Any:
        if self._engine is None:
            self._espeak_version = check_library()
            try:
                import pyttsx3

                engine = pyttsx3.init("espeak")
            except Exception as exc:
                raise WorkerError(
                    f"espeak-ng could not start ({exc}); is espeak-ng-data installed? "
                    f"{INSTALL_HINT}"
                ) from exc
            engine.connect("error", self._on_error)
            self._engine = engine
            # The engine queues commands until its first run; one silent run
            # makes later property changes take effect at once.
            with tempfile.TemporaryDirectory(prefix="ivr-tts-") as tmp:
                engine.save_to_file(" ", str(Path(tmp) / "warmup.wav"))
                engine.runAndWait()
        return self._engine

    def _wait_until_idle(self) -> None:
        """Wait until espeak has applied the queued voice and rate.

        Property changes are queued inside espeak; if synthesis starts while
        they are pending, the engine's run loop sees "still playing", cancels
        the queue and the new rate is lost (and now and then the whole
        utterance, leaving an empty file). A queue that never drains means a
        wedged engine: exit so that the parent restarts a fresh worker.
        """
        from pyttsx3.drivers import _espeak

        deadline = time.monotonic() + IDLE_WAIT_S
        while _espeak.IsPlaying():
            if time.monotonic() > deadline:
                sys.stderr.write("tts worker: espeak-ng queue is stuck, exiting\n")
                sys.stderr.flush()
                os._exit(3)
            time.sleep(0.001)

    def _on_error(self, name: object = None, exception: BaseException | None = None) -> None:
        self._errors.append(exception or RuntimeError("unknown engine error"))

    def engine_name(self) -> str:
        from importlib.metadata import version

        self._engine_or_fail()
        return f"pyttsx3-{version('pyttsx3')}+espeak-ng-{self._espeak_version}"

    def voices(self) -> dict[str, str]:
        """Every name a voice answers to (identifier and languages), lower-cased."""
        if self._voices is None:
            names: dict[str, str] = {}
            for voice in self._engine_or_fail().getProperty("voices"):
                ident = str(voice.id).lower()
                names[ident] = ident
                self._genders[ident] = (voice.gender or "").lower() or None
                for lang in voice.languages or []:
                    names.setdefault(str(lang).lower(), ident)
            self._voices = names
        return self._voices

    def variants(self) -> dict[str, str | None]:
        """Every variant name (``f4``, the file name in espeak-ng's ``voices/!v``)
        and its gender. Case matters: espeak-ng finds a variant by file name."""
        if self._variants is None:
            from pyttsx3.drivers import _espeak

            self._engine_or_fail()
            spec = _espeak.VOICE()
            spec.languages = b"variant"
            self._variants = {
                v.identifier.decode("utf-8", "replace").rsplit("/", 1)[-1]: GENDERS.get(v.gender)
                for v in _espeak.ListVoices(spec)
            }
        return self._variants

    def check_voices(self, names: Sequence[str]) -> dict[str, Any]:
        """The ``info`` reply's voice part for ``names`` spelled ``voice+variant``."""
        known, variants = self.voices(), self.variants()
        missing: list[str] = []
        missing_variants: list[str] = []
        genders: dict[str, str | None] = {}
        for name in names:
            base, _, variant = str(name).partition("+")
            if base.lower() not in known:
                missing.append(base)
            elif variant and variant not in variants:
                missing_variants.append(variant)
            else:
                voice_gender = self._genders.get(known[base.lower()])
                genders[name] = variants[variant] if variant else voice_gender
        return {"missing": missing, "missing_variants": missing_variants, "genders": genders}

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        op = req.get("op")
        if op == "info":
            return {"engine": self.engine_name(), **self.check_voices(req.get("voices", []))}
        if op == "render":
            text, voice, out = str(req["text"]), str(req["voice"]), str(req["out"])
            return self.render(
                text, voice, int(req["rate"]), out, int(req.get("pitch", DEFAULT_PITCH))
            )
        if op == "sleep":
            flag = req.get("once_flag")
            if flag is None or os.path.exists(flag):
                if flag is not None:
                    os.unlink(flag)
                time.sleep(float(req["seconds"]))
            return {}
        raise WorkerError(f"unknown request {op!r}")

    def render(
        self, text: str, voice: str, rate: int, out: str, pitch: int = DEFAULT_PITCH
    ) -> dict[str, Any]:
        checked = self.check_voices([voice])
        if checked["missing"] or checked["missing_variants"]:
            raise WorkerError(f"voice {voice} not found in espeak-ng")
        for _attempt in range(RENDER_ATTEMPTS):
            samples, rate_hz = self._synthesize_once(text, voice, rate, pitch)
            if samples.size:
                break
        else:
            raise WorkerError(f"synthesis produced no audio {RENDER_ATTEMPTS} times")
        ulaw = mulaw.pcm16_to_ulaw8k(samples, rate_hz)
        Path(out).write_bytes(ulaw)
        return {"seconds": len(ulaw) / mulaw.SAMPLE_RATE}

    def _synthesize_once(
        self, text: str, voice: str, rate: int, pitch: int
    ) -> tuple[np.ndarray, int]:
        """One engine run; an empty result is retried by the caller."""
        engine = self._engine_or_fail()
        self._errors.clear()
        with tempfile.TemporaryDirectory(prefix="ivr-tts-") as tmp:
            wav_path = Path(tmp) / "out.wav"
            engine.setProperty("voice", voice)
            engine.setProperty("rate", rate)
            engine.setProperty("pitch", pitch)
            self._wait_until_idle()
            engine.save_to_file(text, str(wav_path))
            engine.runAndWait()
            if self._errors:
                raise WorkerError(f"synthesis failed: {self._errors[0]}")
            return read_complete_wav(wav_path)


def _claim_stdout() -> TextIO:
    """Keep the real stdout for replies and send everything else printed to /dev/null."""
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    return proto


def _reply(proto: TextIO, req_id: object, body: dict[str, Any]) -> None:
    proto.write(json.dumps({"id": req_id, **body}, ensure_ascii=False) + "\n")
    proto.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    proto = _claim_stdout()
    worker = Worker()
    if args[:1] == ["--check"]:
        requests: Any = [json.dumps({"id": 0, "op": "info", "voices": args[1:]})]
    else:
        requests = sys.stdin
    for line in requests:
        if not line.strip():
            continue
        req_id: object = None
        try:
            req = json.loads(line)
            req_id = req.get("id")
            body = {"ok": True, **worker.handle(req)}
        except WorkerError as exc:
            body = {"ok": False, "error": str(exc)}
        except Exception as exc:
            body = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        _reply(proto, req_id, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
