"""Table-driven NLU tests: tests/data/nlu_<locale>.tsv.

Each row: text, expected intent, then ``key=value`` words. ``context`` and
``today`` are inputs; ``date``, ``date_end``, ``time``, ``amount``, ``fraction``,
``installments`` and ``plan`` are expected slots. A slot not listed must come
back empty, so a rule that invents a date fails too.

``plan`` lists the instalments of a payment plan as ``date:portion`` separated
by commas, a portion being ``f<fraction>``, ``a<cents>`` or ``rest``:
``plan=2026-11-23:f0.5,2026-12-20:f0.5``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from ivr.dialog.nlu import INTENTS, NluResult, PlannedPayment, understand

DATA = Path(__file__).resolve().parents[1] / "data"
DEFAULT_TODAY = dt.date(2026, 11, 23)  # a Monday
# Each locale's rows come from every nlu_*<locale>.tsv: the main table and
# the held-out batches (written after the rules, to see how they generalize).
LOCALES = {"pt-BR": "pt_BR", "en-US": "en_US"}
ACCURACY_THRESHOLD = 0.95
# Fewer rows than this and an intent's share of the accuracy is a coin toss.
MIN_ROWS_PER_INTENT = 3


@dataclass(frozen=True)
class Case:
    locale: str
    line: str
    text: str
    intent: str
    today: dt.date = DEFAULT_TODAY
    context: str | None = None
    expected: dict[str, object] = field(default_factory=dict)

    @property
    def id(self) -> str:
        extra = f"@{self.context}" if self.context else ""
        day = f"@{self.today.isoformat()}" if self.today != DEFAULT_TODAY else ""
        return f"{self.line}:{self.text}{extra}{day}"


def _instalment(raw: str) -> PlannedPayment:
    day, _, portion = raw.partition(":")
    date = dt.date.fromisoformat(day)
    if portion.startswith("f"):
        return PlannedPayment(date, fraction=float(portion[1:]))
    if portion.startswith("a"):
        return PlannedPayment(date, amount_cents=int(portion[1:]))
    if portion == "rest":
        return PlannedPayment(date)
    raise ValueError(f"unknown instalment portion {portion!r}")


def _value(key: str, raw: str) -> object:
    if key in ("date", "date_end"):
        return dt.date.fromisoformat(raw)
    if key == "plan":
        return tuple(_instalment(item) for item in raw.split(","))
    if key == "time":
        return dt.time.fromisoformat(raw)
    if key in ("amount", "installments"):
        return int(raw)
    if key == "fraction":
        return float(raw)
    raise ValueError(f"unknown key {key!r}")


def load_cases(locale: str) -> list[Case]:
    cases = []
    for path in sorted(DATA.glob(f"nlu_*{LOCALES[locale]}.tsv")):
        cases.extend(_load_file(locale, path))
    return cases


def _load_file(locale: str, path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        columns = line.split("\t")
        text, intent = columns[0], columns[1]
        today, context, expected = DEFAULT_TODAY, None, {}
        for word in " ".join(columns[2:]).split():
            key, _, raw = word.partition("=")
            if key == "today":
                today = dt.date.fromisoformat(raw)
            elif key == "context":
                context = raw
            else:
                expected[key] = _value(key, raw)
        cases.append(Case(locale, f"{path.stem}:{number}", text, intent, today, context, expected))
    return cases


ALL_CASES = [case for locale in LOCALES for case in load_cases(locale)]


def actual_of(result: NluResult) -> dict[str, object]:
    return {
        "intent": result.intent,
        "date": result.date,
        "time": result.time,
        "amount": result.amount_cents,
        "fraction": result.fraction,
        "installments": result.installments,
        "date_end": result.date_end,
        "plan": result.installment_plan,
    }


def expected_of(case: Case) -> dict[str, object]:
    want: dict[str, object] = {
        "intent": case.intent,
        "date": None,
        "time": None,
        "amount": None,
        "fraction": None,
        "installments": None,
        "date_end": None,
        "plan": (),
    }
    want.update(case.expected)
    return want


def run(case: Case) -> tuple[dict[str, object], dict[str, object]]:
    result = understand(case.text, case.locale, case.today, context=case.context)
    return actual_of(result), expected_of(case)


def test_table_sizes() -> None:
    counts = {locale: len(load_cases(locale)) for locale in LOCALES}
    assert counts["pt-BR"] >= 150
    assert counts["en-US"] >= 50
    main = {loc: len(_load_file(loc, DATA / f"nlu_{name}.tsv")) for loc, name in LOCALES.items()}
    assert main["pt-BR"] >= 200
    assert main["en-US"] >= 100


@pytest.mark.parametrize("locale", LOCALES)
def test_table_covers_every_intent(locale: str) -> None:
    """Each intent the understanding returns is exercised in each language."""
    assert {case.intent for case in load_cases(locale)} == set(INTENTS)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_utterance(case: Case) -> None:
    actual, expected = run(case)
    assert actual == expected


def test_every_intent_has_rows_in_each_locale() -> None:
    """An accuracy over the table says nothing of an intent the table never asks for."""
    for locale in LOCALES:
        rows = Counter(case.intent for case in ALL_CASES if case.locale == locale)
        thin = {intent: rows[intent] for intent in INTENTS if rows[intent] < MIN_ROWS_PER_INTENT}
        assert thin == {}, f"{locale}: intents with fewer than {MIN_ROWS_PER_INTENT} rows"
        assert set(rows) <= set(INTENTS), f"{locale}: rows expect intents the NLU never gives"


def _without_accents(text: str) -> str:
    # Written here rather than imported from ivr.dialog.nlu_text: the rows
    # must be changed independently of the code that normalizes them.
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# The ways the same answer is typed at ``ivr nlu`` and in keypad-less tests
# (ivr/dialog/nlu_text.py): accents left out, capitals, a closing full stop.
# test_utterance checks each row as written; these forms it never sees.
TYPED_FORMS: dict[str, Callable[[str], str]] = {
    "as written": lambda text: text,
    "without accents": _without_accents,
    "in capitals": str.upper,
    "with a full stop": lambda text: text.rstrip(".!?") + ".",
}


def test_overall_accuracy() -> None:
    """The table, rewritten as people type it, still scores the accuracy floor per locale."""
    report = []
    for locale in LOCALES:
        cases = [c for c in ALL_CASES if c.locale == locale]
        for form, rewrite in TYPED_FORMS.items():
            intent_ok = 0
            full_ok = 0
            for case in cases:
                actual, expected = run(replace(case, text=rewrite(case.text)))
                intent_ok += actual["intent"] == expected["intent"]
                full_ok += actual == expected
            report.append((locale, form, len(cases), intent_ok / len(cases), full_ok / len(cases)))
    for locale, form, n, intent_acc, full_acc in report:
        print(
            f"{locale} {form}: {n} utterances, intent accuracy {intent_acc:.1%}, "
            f"intent+slots accuracy {full_acc:.1%}"
        )
    below = [(locale, form, acc) for locale, form, _, _, acc in report if acc < ACCURACY_THRESHOLD]
    assert below == []
