"""Grammar files: format, size, encoding, and that every phrase is understood."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from ivr.dialog.grammars import (
    CONTEXT_INTENTS,
    CONTEXTS,
    DEFAULT_ROOT,
    UNK,
    GrammarError,
    all_contexts,
    for_model,
    grammar_words,
    load_grammar,
    missing_words,
    to_vosk_json,
)
from ivr.dialog.nlu import understand

LOCALES = ("pt-BR", "en-US")
TODAY = dt.date(2026, 11, 23)
ALL = [(locale, context) for locale in LOCALES for context in CONTEXTS]
PHRASES = [
    (locale, context, phrase)
    for locale, context in ALL
    for phrase in load_grammar(locale, context)
    if phrase != UNK
]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_context_has_a_grammar(locale: str) -> None:
    assert set(CONTEXTS) <= set(all_contexts(locale))


@pytest.mark.parametrize(("locale", "context"), ALL)
def test_grammar_shape(locale: str, context: str) -> None:
    phrases = load_grammar(locale, context)
    assert phrases[-1] == UNK
    assert phrases.count(UNK) == 1
    assert len(phrases) == len(set(phrases)), "duplicate phrases"
    assert 5 <= len(phrases) <= 200
    for phrase in phrases[:-1]:
        assert phrase == phrase.lower()
        assert re.fullmatch(
            r"[^\W\d_]+(?:['][^\W\d_]+)?(?: [^\W\d_]+(?:['][^\W\d_]+)?)*", phrase
        ), phrase


@pytest.mark.parametrize(("locale", "context"), ALL)
def test_grammar_file_uses_real_characters(locale: str, context: str) -> None:
    raw = (DEFAULT_ROOT / locale / f"{context}.json").read_text(encoding="utf-8")
    assert "\\u" not in raw


@pytest.mark.parametrize(
    ("locale", "context", "phrase"), PHRASES, ids=[f"{lc}/{ctx}/{p}" for lc, ctx, p in PHRASES]
)
def test_every_phrase_is_understood_as_its_context_expects(
    locale: str, context: str, phrase: str
) -> None:
    result = understand(phrase, locale, TODAY, context=context)
    assert result.intent != "unknown"
    assert result.intent in CONTEXT_INTENTS[context]


def test_payment_grammar_covers_every_day_of_the_month() -> None:
    dates = {
        understand(p, "pt-BR", TODAY, context="ask_payment_date").date
        for p in load_grammar("pt-BR", "ask_payment_date")
        if p.startswith("dia ")
    }
    assert {d.day for d in dates if d} == set(range(1, 32))


def test_to_vosk_json_keeps_accents() -> None:
    out = to_vosk_json(["não", "amanhã", UNK])
    assert out == '["não", "amanhã", "[unk]"]'
    assert json.loads(out) == ["não", "amanhã", UNK]


def test_grammar_words() -> None:
    assert grammar_words(["não sou eu", "sou eu", UNK]) == {"não", "sou", "eu"}


def test_missing_words_and_for_model() -> None:
    vocabulary = {"sim", "não", "sou", "eu"}
    phrases = ["sim", "não sou eu", "talvez", UNK]
    assert missing_words(phrases, vocabulary.__contains__) == ["talvez"]
    with pytest.raises(GrammarError, match="talvez"):
        for_model(phrases, vocabulary.__contains__)
    assert for_model(["sim", "não", UNK], vocabulary.__contains__) == ["sim", "não"]
    assert for_model(["sim", UNK], (vocabulary | {UNK}).__contains__) == ["sim", UNK]


@pytest.mark.parametrize(
    "content",
    ["[]", "{}", '"sim"', '["sim", ""]', '["sim", 3]', "not json", '["sim", "  "]'],
)
def test_bad_grammar_files_are_refused_by_name(tmp_path: Path, content: str) -> None:
    folder = tmp_path / "pt-BR"
    folder.mkdir()
    (folder / "broken.json").write_text(content, encoding="utf-8")
    with pytest.raises(GrammarError, match=r"broken\.json"):
        load_grammar("pt-BR", "broken", root=tmp_path)


def test_missing_grammar_file(tmp_path: Path) -> None:
    with pytest.raises(GrammarError, match=r"nope\.json"):
        load_grammar("pt-BR", "nope", root=tmp_path)


def test_all_contexts_ignores_non_grammar_files(tmp_path: Path) -> None:
    folder = tmp_path / "ko-KR"
    folder.mkdir()
    (folder / "yes_no.json").write_text('["네"]', encoding="utf-8")
    (folder / "lexicon.json").write_text("{}", encoding="utf-8")
    assert all_contexts("ko-KR", root=tmp_path) == ["yes_no"]
    assert all_contexts("xx-XX", root=tmp_path) == []


def test_to_vosk_json_refuses_empty() -> None:
    with pytest.raises(GrammarError):
        to_vosk_json([])
