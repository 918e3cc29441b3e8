"""Vosk phrase lists per listening context and locale.

A grammar is ``grammars/<locale>/<context>.json``: a JSON list of lowercase
phrases, the last one ``[unk]`` (the garbage word that lets Vosk say "none of
these" instead of forcing the nearest phrase). Vosk also matches sequences of
phrases, so "posso pagar" + "dia cinco" needs no phrase of its own.

Vosk is unforgiving with bad input (an empty or malformed grammar crashes the
process; ``\\u`` escapes silently drop every accented word), so every grammar
is validated here before anything reaches the recognizer, and serialized only
through ``to_vosk_json``.

``CONTEXT_INTENTS`` says which intents each context listens for; the tests
check that every phrase of every grammar is understood as one of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

UNK = "[unk]"
# The grammars/ folder of this source tree, so loading does not depend on the
# working directory; an installed copy without it falls back to ./grammars.
_SOURCE_ROOT = Path(__file__).resolve().parents[2] / "grammars"
DEFAULT_ROOT = _SOURCE_ROOT if _SOURCE_ROOT.is_dir() else Path("grammars")
# Files beside the grammars that are not grammars (a test locale's word map).
NOT_GRAMMARS = frozenset({"lexicon"})

# Listening contexts (names are a contract with the call flow) and the intents
# their phrases express. Stop-calling is in every context: an opt-out must be
# heard whenever it is said.
CONTEXT_INTENTS: dict[str, frozenset[str]] = {
    "confirm_identity": frozenset(
        {
            "yes",
            "no",
            "wrong_person",
            "agent",
            "callback",
            "stop_calling",
            "deceased",
            "not_available",
        }
    ),
    "ask_payment_date": frozenset(
        {
            "promise",
            "cannot_pay",
            "already_paid",
            "installments",
            "agent",
            "callback",
            "stop_calling",
            "dispute",
            "repeat",
            "no",
            "payment_details",
        }
    ),
    "confirm_promise": frozenset({"yes", "no", "agent", "repeat", "stop_calling"}),
    "offer_installments": frozenset(
        {"yes", "no", "agent", "repeat", "installments", "stop_calling"}
    ),
    "ask_callback_time": frozenset(
        {"callback", "agent", "repeat", "stop_calling", "not_available"}
    ),
    "yes_no": frozenset({"yes", "no", "agent", "repeat", "stop_calling"}),
    "queue_callback": frozenset({"yes", "no", "stop_calling"}),
    # "May I text you the payment details?": "pode mandar os dados" is a yes.
    "sms_consent": frozenset({"yes", "no", "agent", "repeat", "stop_calling", "payment_details"}),
}
CONTEXTS = tuple(CONTEXT_INTENTS)


class GrammarError(ValueError):
    """A grammar file or phrase list that must not reach the recognizer."""


def grammar_path(locale: str, context: str, root: Path = DEFAULT_ROOT) -> Path:
    return Path(root) / locale / f"{context}.json"


def validate(phrases: object, source: str) -> list[str]:
    """Return ``phrases`` as a list of strings, or raise naming ``source``."""
    if not isinstance(phrases, list) or not phrases:
        raise GrammarError(f"{source}: a grammar must be a non-empty JSON list of phrases")
    for phrase in phrases:
        if not isinstance(phrase, str) or not phrase.strip():
            raise GrammarError(f"{source}: every phrase must be a non-empty string: {phrase!r}")
    return list(phrases)


def load_grammar(locale: str, context: str, root: Path = DEFAULT_ROOT) -> list[str]:
    """The phrases of one grammar file, ``[unk]`` included, validated."""
    path = grammar_path(locale, context, root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise GrammarError(f"{path}: no such grammar") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GrammarError(f"{path}: not valid JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("intents"), dict):
        # Test locales list phrases by intent; the recognizer gets them all.
        data = [p for phrases in data["intents"].values() for p in phrases]
    return validate(data, str(path))


def all_contexts(locale: str, root: Path = DEFAULT_ROOT) -> list[str]:
    """The contexts that have a grammar file for ``locale``, sorted."""
    folder = Path(root) / locale
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if p.stem not in NOT_GRAMMARS)


def grammar_words(phrases: Iterable[str]) -> set[str]:
    """Every distinct word the phrases use, ``[unk]`` excluded."""
    return {word for phrase in phrases for word in phrase.split() if word != UNK}


def missing_words(phrases: Iterable[str], has_word: Callable[[str], bool]) -> list[str]:
    """Words a model lacks, sorted (``[unk]`` is optional, so never reported)."""
    return sorted(word for word in grammar_words(phrases) if not has_word(word))


def for_model(
    phrases: Sequence[str], has_word: Callable[[str], bool], source: str = "grammar"
) -> list[str]:
    """The phrases a model can take: ``[unk]`` dropped if the model lacks it;
    raises GrammarError naming the missing words otherwise."""
    checked = validate(list(phrases), source)
    missing = missing_words(checked, has_word)
    if missing:
        raise GrammarError(f"{source}: words missing from the model: {', '.join(missing)}")
    if has_word(UNK):
        return checked
    kept = [p for p in checked if p != UNK]
    if not kept:
        raise GrammarError(f"{source}: nothing left once [unk] is dropped")
    return kept


def to_vosk_json(phrases: Sequence[str]) -> str:
    """The grammar as Vosk needs it: real UTF-8 characters, never ``\\u`` escapes
    (with escapes Vosk drops every accented word as out of vocabulary)."""
    return json.dumps(validate(list(phrases), "grammar"), ensure_ascii=False)


# Phrases a caller usually goes on from ("posso pagar ... dia cinco"): Vosk
# matches sequences of phrases, so these complete nothing on their own and
# must never end a turn early (the NLU reads each alone as a promise without
# a date, which the flow would only have to ask about again).
LEAD_INS = frozenset({"posso pagar", "vou pagar", "eu pago", "i can pay", "i'll pay"})


class TurnEnds:
    """Whether what has been heard so far is already a whole answer.

    The recognizer ends a turn after a short silence instead of the usual one
    when this says yes, so the caller is not kept waiting after "네" or
    "amanhã". It says yes only when the words split entirely into phrases of
    the active grammar and no phrase (or lead-in) could still go on from the
    words heard last: "dia vinte" waits for a possible "e um", "sim" waits for
    a possible "sou eu" where "sim sou eu" is a phrase, "não" waits for
    "não posso pagar". Word-level only: pure set lookups, cheap enough to ask
    for every partial result.
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        tuples = {tuple(p.split()) for p in phrases if p.strip() and p != UNK}
        self._phrases = frozenset(t for t in tuples if UNK not in t)
        self._longest = max((len(t) for t in self._phrases), default=0)
        # Every word sequence a longer phrase starts with; a lead-in counts as
        # the start of "lead-in + whatever follows".
        open_ends: set[tuple[str, ...]] = set()
        for words in self._phrases:
            open_ends.update(words[:n] for n in range(1, len(words)))
            if " ".join(words) in LEAD_INS:
                open_ends.add(words)
        self._open = frozenset(open_ends)

    def complete(self, text: str) -> bool:
        """True when ``text`` is a whole answer that no phrase can extend.

        Every way of reading ``text`` as a sequence of phrases counts: it is
        open when some reading ends in the start of a longer phrase or in a
        lead-in ("não" + "posso pagar" as well as "não posso pagar").
        """
        words = tuple(text.split())
        if not words or UNK in words:
            return False
        whole = self._whole_prefixes(words)
        if not whole[len(words)]:
            return False
        return not any(
            whole[start] and words[start:] in self._open
            for start in range(max(0, len(words) - self._longest), len(words))
        )

    def _whole_prefixes(self, words: tuple[str, ...]) -> list[bool]:
        """``[k]``: the first k words split into whole phrases."""
        whole = [True] + [False] * len(words)
        for end in range(1, len(words) + 1):
            whole[end] = any(
                whole[end - n] and words[end - n : end] in self._phrases
                for n in range(1, min(end, self._longest) + 1)
            )
        return whole
