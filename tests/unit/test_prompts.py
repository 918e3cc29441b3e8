"""The prompt catalogues: complete in both locales, well-formed, and kind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.dialog.flow_model import Flow
from ivr.dialog.prompts import (
    KNOWN_PLACEHOLDERS,
    LOCALES,
    PromptCatalog,
    PromptError,
    validate_catalogs,
)

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "prompts"

# Words that threaten, shame or pressure; none may appear in any prompt.
THREATENING = [
    "processo",
    "justiça",
    "judicial",
    "polícia",
    "prisão",
    "penhora",
    "advogado",
    "cartório",
    "protesto",
    "urgente",
    "última chance",
    "imediatamente",
    "lawsuit",
    "sue ",
    "court",
    "arrest",
    "police",
    "jail",
    "garnish",
    "attorney",
    "last chance",
    "immediately",
    "urgent",
    "final notice",
]

# Prompts that may be heard by someone who is not the debtor.
BEFORE_IDENTITY = [
    "greet",
    "keypad_yes_no",
    "keypad_identity",
    "check_birth_year",
    "keypad_birth_year",
    "check_document",
    "keypad_document",
    "ask_number_owner",
    "unverified_goodbye",
    "wrong_person",
    "voicemail",
    "no_response_goodbye",
    "opt_out_confirm",
    "ask_callback_time",
    "keypad_callback",
    "callback_confirm",
    "callback_confirm_any",
    "transfer_agent",
    "transfer_not_understood",
    "queue_offer_callback",
    "queue_keep_waiting",
    "not_available_goodbye",
    "deceased_condolences",
]
DEBT_WORDS = re.compile(
    r"d[íi]vida|d[ée]bito|debt|cobran|collect|pagamento|payment|pagar|\bpay\b|"
    r"parcela|installment|valor|amount|vencimento|due",
    re.IGNORECASE,
)
MINI_MIRANDA_FIRST = (
    "This is an attempt to collect a debt, and any information obtained will be used "
    "for that purpose."
)
MINI_MIRANDA_LATER = "This communication is from a debt collector."


@pytest.fixture(scope="module")
def catalogs() -> dict[str, PromptCatalog]:
    return {loc: PromptCatalog.load(loc, root=PROMPTS) for loc in LOCALES}


@pytest.fixture(scope="module")
def sample_values() -> dict[str, str]:
    return {name: f"<{name}>" for name in KNOWN_PLACEHOLDERS}


def test_both_locales_have_the_same_ids_and_placeholders(catalogs):
    pt, en = catalogs["pt-BR"], catalogs["en-US"]
    assert pt.ids() == en.ids()
    for prompt_id in pt.ids():
        assert pt.placeholders(prompt_id) == en.placeholders(prompt_id), prompt_id


def test_every_prompt_has_two_or_three_different_variants(catalogs):
    for cat in catalogs.values():
        for prompt_id in cat.ids():
            texts = [
                cat.render(prompt_id, {n: "x" for n in KNOWN_PLACEHOLDERS}, v) for v in (0, 1, 2)
            ]
            count = cat.variants(prompt_id)
            assert 2 <= count <= 3, (cat.locale, prompt_id)
            assert len(set(texts[:count])) == count, (cat.locale, prompt_id)


def test_rendering_fills_every_placeholder(catalogs, sample_values):
    for cat in catalogs.values():
        for prompt_id in cat.ids():
            for variant in range(cat.variants(prompt_id)):
                text = cat.render(prompt_id, sample_values, variant)
                assert "{" not in text and "}" not in text, (cat.locale, prompt_id)
                for name in cat.placeholders(prompt_id):
                    if f"{{{name}}}" in cat.prompts[prompt_id][variant]:
                        assert f"<{name}>" in text


def test_render_needs_every_placeholder_value(catalogs):
    with pytest.raises(PromptError, match="first_name"):
        catalogs["pt-BR"].render("greet", {"company": "Acme"})


def test_variant_wraps_around(catalogs, sample_values):
    cat = catalogs["pt-BR"]
    count = cat.variants("greet")
    assert cat.render("greet", sample_values, count) == cat.render("greet", sample_values, 0)
    assert cat.render("greet", sample_values, count + 1) == cat.render("greet", sample_values, 1)


def test_unknown_prompt_id_is_an_error_naming_it(catalogs):
    with pytest.raises(PromptError, match="no_such_prompt"):
        catalogs["en-US"].render("no_such_prompt", {})
    with pytest.raises(PromptError, match="no_such_prompt"):
        catalogs["en-US"].placeholders("no_such_prompt")


def test_unknown_placeholder_is_rejected_at_load_time():
    doc = {"locale": "pt-BR", "prompts": {"hello": ["Olá {primeiro_nome}", "Oi"]}}
    with pytest.raises(PromptError, match=r"hello.*primeiro_nome"):
        PromptCatalog.from_mapping("pt-BR", doc)


def test_formatting_tricks_are_rejected_at_load_time():
    doc = {"locale": "en-US", "prompts": {"hello": ["Hi {first_name!r}"]}}
    with pytest.raises(PromptError, match="hello"):
        PromptCatalog.from_mapping("en-US", doc)


def test_missing_locale_file_names_the_locale(tmp_path):
    with pytest.raises(PromptError, match="fr-FR"):
        PromptCatalog.load("fr-FR", root=tmp_path)


def test_no_threatening_or_pressuring_words(catalogs):
    for cat in catalogs.values():
        for prompt_id, variants in cat.prompts.items():
            for text in variants:
                lowered = text.lower()
                for word in THREATENING:
                    assert word not in lowered, (cat.locale, prompt_id, word)


def test_prompts_heard_before_identity_reveal_nothing(catalogs, sample_values):
    for cat in catalogs.values():
        for prompt_id in BEFORE_IDENTITY:
            assert not cat.placeholders(prompt_id) & {
                "amount",
                "creditor",
                "creditor_with_article",
                "due_date",
                "installment_amount",
                "promise_amount",
            }, (cat.locale, prompt_id)
            for variant in range(cat.variants(prompt_id)):
                text = cat.render(prompt_id, sample_values, variant)
                assert not DEBT_WORDS.search(text), (cat.locale, prompt_id, text)


def test_voicemail_is_a_limited_content_message(catalogs):
    for cat in catalogs.values():
        assert cat.placeholders("voicemail") <= {"first_name", "company", "callback_number"}
        assert {"company", "callback_number"} <= cat.placeholders("voicemail")


def test_greeting_says_automated_assistant_and_offers_a_way_to_stop_calls(catalogs, sample_values):
    pt = catalogs["pt-BR"].render("greet", sample_values, 0).lower()
    en = catalogs["en-US"].render("greet", sample_values, 0).lower()
    assert "assistente automática" in pt and "<company>" in pt and "<first_name>" in pt
    assert "tecle 9" in pt or "teclar 9" in pt
    assert "automated assistant" in en and "<company>" in en and "<first_name>" in en
    assert "press 9" in en


def test_us_notices_carry_the_exact_mini_miranda(catalogs, sample_values):
    en = catalogs["en-US"]
    for variant in range(en.variants("notice_first")):
        assert MINI_MIRANDA_FIRST in en.render("notice_first", sample_values, variant)
    for variant in range(en.variants("notice_later")):
        assert MINI_MIRANDA_LATER in en.render("notice_later", sample_values, variant)


def test_brazilian_notices_say_the_call_is_recorded_and_why(catalogs, sample_values):
    pt = catalogs["pt-BR"]
    recorded = dict(sample_values, recording_notice=pt.line("recording_notice"))
    unrecorded = dict(sample_values, recording_notice="")
    for prompt_id in ("notice_first", "notice_later"):
        for variant in range(pt.variants(prompt_id)):
            text = pt.render(prompt_id, recorded, variant)
            assert "ligação é gravada" in text
            assert "Lei Geral de Proteção de Dados" in text
            # Not recorded: nothing about a recording, the rest of the notice intact.
            text = pt.render(prompt_id, unrecorded, variant)
            assert "gravad" not in text and "  " not in text
            assert "Lei Geral de Proteção de Dados" in text


def test_the_recording_notice_is_said_only_through_its_placeholder(catalogs, sample_values):
    """Whether a call is recorded is known only per call: no prompt says it by itself."""
    words = {"pt-BR": "gravad", "en-US": "call is recorded"}
    for cat in catalogs.values():
        assert words[cat.locale] in cat.line("recording_notice").lower()
        for prompt_id in cat.prompts:
            for variant in range(cat.variants(prompt_id)):
                text = cat.render(prompt_id, sample_values, variant).lower()
                assert words[cat.locale] not in text, (cat.locale, prompt_id)


def test_questions_offer_the_keypad(catalogs, sample_values):
    flow = Flow.load(prompts_root=PROMPTS)
    keypad_words = {"pt-BR": ("tecl", "teclado"), "en-US": ("press", "keypad")}
    for cat in catalogs.values():
        for state in flow.states.values():
            if not state.ask:
                continue
            asked = [
                cat.render(state.ask, sample_values, v) for v in range(cat.variants(state.ask))
            ]
            hint = (
                [cat.render(state.keypad_prompt, sample_values, 0)] if state.keypad_prompt else []
            )
            assert any(w in t.lower() for t in asked + hint for w in keypad_words[cat.locale]), (
                cat.locale,
                state.name,
            )
            # The first wording of a question already mentions the keypad.
            assert any(w in asked[0].lower() for w in keypad_words[cat.locale]), (
                cat.locale,
                state.name,
            )


def test_catalogs_cover_the_flow():
    flow = Flow.load(prompts_root=PROMPTS)
    catalogs = validate_catalogs(flow, root=PROMPTS)
    assert set(catalogs) == set(LOCALES)
    assert flow.prompt_ids() <= catalogs["pt-BR"].ids()


def test_validate_catalogs_names_a_missing_prompt():
    class FakeFlow:
        def prompt_ids(self) -> frozenset[str]:
            return frozenset({"greet", "farewell_song"})

    with pytest.raises(PromptError, match=r"farewell_song.*pt-BR|farewell_song.*en-US"):
        validate_catalogs(FakeFlow(), root=PROMPTS)


def test_validate_catalogs_names_a_placeholder_mismatch(tmp_path):
    for loc, text in (("pt-BR", "Olá {first_name}"), ("en-US", "Hello {company}")):
        (tmp_path / loc).mkdir()
        (tmp_path / loc / "prompts.yaml").write_text(
            f"locale: {loc}\nprompts:\n  hello: ['{text}', 'x']\n", encoding="utf-8"
        )

    class FakeFlow:
        def prompt_ids(self) -> frozenset[str]:
            return frozenset({"hello"})

    with pytest.raises(PromptError, match=r"hello.*different placeholders"):
        validate_catalogs(FakeFlow(), root=tmp_path)


# ---------------------------------------------------------------- lines (one wording each)


def test_both_locales_have_the_same_lines_and_placeholders(catalogs):
    pt, en = catalogs["pt-BR"], catalogs["en-US"]
    assert set(pt.lines) == set(en.lines)
    assert set(pt.lines) >= {"transfer_hold", "queue_first", "agent_whisper"}
    for line_id in pt.lines:
        assert set(re.findall(r"{(\w+)}", pt.lines[line_id])) == set(
            re.findall(r"{(\w+)}", en.lines[line_id])
        ), line_id


def test_lines_have_no_threatening_words(catalogs):
    for cat in catalogs.values():
        for line_id, text in cat.lines.items():
            for word in THREATENING:
                assert word not in text.lower(), (cat.locale, line_id, word)


def test_lines_the_caller_hears_reveal_nothing(catalogs, sample_values):
    for cat in catalogs.values():
        for line_id in cat.lines:
            if line_id.startswith(("agent_whisper", "reason_", "agent_unidentified")):
                continue  # heard (or read on the screen) by the agent only
            text = cat.line(line_id, sample_values)
            assert not DEBT_WORDS.search(text), (cat.locale, line_id, text)
            assert "<amount>" not in text and "<creditor>" not in text


def test_line_fills_its_placeholders_and_names_what_is_wrong(catalogs):
    pt = catalogs["pt-BR"]
    assert "Há 4 pessoas antes de você" in pt.line("queue_position", {"callers_ahead": 4})
    with pytest.raises(PromptError, match="callers_ahead"):
        pt.line("queue_position")
    with pytest.raises(PromptError, match="no_such_line"):
        pt.line("no_such_line")


def test_unknown_placeholder_in_a_line_is_rejected_at_load_time():
    doc = {"locale": "pt-BR", "prompts": {}, "lines": {"hold": "Espere, {nome}"}}
    with pytest.raises(PromptError, match=r"hold.*nome"):
        PromptCatalog.from_mapping("pt-BR", doc)


def test_validate_catalogs_names_a_missing_or_mismatched_line(tmp_path):
    lines = {"pt-BR": "  a: 'Olá {full_name}'\n  b: 'x'\n", "en-US": "  a: 'Hi {company}'\n"}
    for loc, text in lines.items():
        (tmp_path / loc).mkdir()
        (tmp_path / loc / "prompts.yaml").write_text(
            f"locale: {loc}\nprompts: {{}}\nlines:\n{text}", encoding="utf-8"
        )

    class FakeFlow:
        def prompt_ids(self) -> frozenset[str]:
            return frozenset()

    with pytest.raises(PromptError, match=r"line 'a' has different placeholders") as info:
        validate_catalogs(FakeFlow(), root=tmp_path)
    assert "line 'b' is missing in en-US" in str(info.value)
