"""The demo's simulated people: who answers each number, and how.

Keypad only, so no speech model is needed. The example portfolio has one
person per kind of call; ``--debtors N`` generates a portfolio of N
Brazilian debtors (a fixed seed: the same N gives the same people) with a
mix of answers close to a real collection campaign's: many unanswered or
busy lines and voicemail boxes, fewer conversations, some promises.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from ivr.sandbox.callee import CalleeScript, HangUp, Press, Silence, Step, WaitForPrompt
from scheduler.windows import business_day_on_or_after

SEED = 20240601


@dataclass(frozen=True)
class Person:
    """What the demo says about a callee, and the script the sandbox plays for them."""

    label: str
    script: CalleeScript


def keypad_promise(day: dt.date) -> CalleeScript:
    """A debtor who confirms it is them, keys in ``day`` (DDMM#) and confirms."""
    return CalleeScript(
        steps=[
            WaitForPrompt(),  # greeting
            Press("1"),
            WaitForPrompt(),  # recording notice
            WaitForPrompt(),  # the reason, amount and due date
            WaitForPrompt(),  # when can you pay?
            Press(f"{day.day:02d}{day.month:02d}#"),
            WaitForPrompt(),  # read-back
            Press("1"),
        ]
    )


def keypad_promise_and_sms(day: dt.date) -> CalleeScript:
    """:func:`keypad_promise`, then yes to the payment details by SMS."""
    steps = list(keypad_promise(day).steps)
    steps += [
        WaitForPrompt(),  # the promise read back
        WaitForPrompt(),  # may I text you the payment details?
        Press("1"),
    ]
    return CalleeScript(steps=steps)


def _promise(today: dt.date, days: int = 5) -> Person:
    day = business_day_on_or_after(today + dt.timedelta(days=days), "BR")
    return Person("answers, confirms, promises by keypad", keypad_promise(day))


def _promise_and_sms(today: dt.date, days: int = 5) -> Person:
    day = business_day_on_or_after(today + dt.timedelta(days=days), "BR")
    return Person(
        "answers, promises by keypad, accepts the payment details by SMS",
        keypad_promise_and_sms(day),
    )


def _wrong_party() -> Person:
    steps: list[Step] = [WaitForPrompt(), Press("2"), WaitForPrompt(), Press("2")]
    return Person("someone else answers", CalleeScript(steps=steps))


def _opt_out() -> Person:
    return Person("asks not to be called again", CalleeScript(steps=[WaitForPrompt(), Press("9")]))


def _voicemail() -> Person:
    return Person("a voicemail box", CalleeScript(answer="voicemail"))


def _busy() -> Person:
    return Person("the line is busy", CalleeScript(answer="busy"))


def _no_answer() -> Person:
    return Person("does not answer", CalleeScript(answer="no-answer", ring_seconds=30))


def _silent() -> Person:
    """Picks up and says nothing: answered by a human, yet not a contact."""
    steps: list[Step] = [Silence(8.0), HangUp()]
    return Person("picks up, says nothing, hangs up", CalleeScript(steps=steps))


def _confirms_then_hangs_up() -> Person:
    """The debtor confirms who they are, hears what it is about, and hangs up."""
    steps: list[Step] = [WaitForPrompt(), Press("1"), WaitForPrompt(), WaitForPrompt(), HangUp()]
    return Person("confirms, hears the amount, hangs up", CalleeScript(steps=steps))


def _hangs_up() -> Person:
    return Person("hangs up at the greeting", CalleeScript(steps=[Silence(2.0), HangUp()]))


def example_people(today: dt.date) -> dict[str, Person]:
    """Who answers each number of ``examples/portfolio.csv``."""
    return {
        "+5511987654321": _promise_and_sms(today),
        "+5521998765432": _wrong_party(),
        "+5531991234567": _voicemail(),
        "+5541992345678": _busy(),
        "+5571993456789": _opt_out(),
        "+12125550148": _no_answer(),
    }


# How often each kind of answer comes up in a generated campaign (weights):
# about a third of the calls reach a person, one in eight the debtor.
MIX: tuple[tuple[int, Callable[[dt.date, random.Random], Person]], ...] = (
    (32, lambda _t, _r: _no_answer()),
    (13, lambda _t, _r: _busy()),
    (18, lambda _t, _r: _voicemail()),
    (7, lambda _t, _r: _wrong_party()),
    (5, lambda _t, _r: _silent()),
    (5, lambda _t, _r: _hangs_up()),
    (5, lambda _t, _r: _opt_out()),
    (5, lambda _t, _r: _confirms_then_hangs_up()),
    (8, lambda t, r: _promise(t, r.randint(3, 20))),
)

FIRST = (
    "Ana", "Maria", "Juliana", "Fernanda", "Patrícia", "Aline", "Camila", "Bruna", "Letícia",
    "Adriana", "Francisca", "Luciana", "Vanessa", "Beatriz", "Raimunda", "José", "João",
    "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Marcos", "Rafael",
    "Gabriel", "Thiago", "Rodrigo", "Sebastião", "Márcio", "Diego", "Edson", "Cláudio",
)  # fmt: skip
LAST = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares",
    "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira",
    "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves",
    "Araújo", "Teixeira", "Cavalcanti", "Monteiro", "Batista",
)  # fmt: skip
AREAS = (
    ("11", "SP"), ("21", "RJ"), ("31", "MG"), ("41", "PR"), ("51", "RS"), ("61", "DF"),
    ("71", "BA"), ("81", "PE"), ("85", "CE"), ("91", "PA"), ("62", "GO"), ("48", "SC"),
    ("27", "ES"), ("92", "AM"), ("19", "SP"), ("34", "MG"),
)  # fmt: skip
CREDITORS = (
    ("Loja Estrela", "da Loja Estrela"),
    ("Banco Horizonte", "do Banco Horizonte"),
    ("Telefonia Sol", "da Telefonia Sol"),
    ("Financeira Boa Vista", "da Financeira Boa Vista"),
)
HEADER = [
    "external_ref",
    "name",
    "phone",
    "amount",
    "due_date",
    "creditor",
    "locale",
    "region",
    "timezone",
    "birth_year",
    "creditor_spoken",
]


def _mobile(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A valid, unused Brazilian mobile number (+55 DDD 9XXXX-XXXX) and its state."""
    while True:
        ddd, uf = rng.choice(AREAS)
        number = f"+55{ddd}9{rng.randint(6, 9)}{rng.randint(0, 9_999_999):07d}"
        if number not in taken and phonenumbers.is_valid_number(phonenumbers.parse(number)):
            taken.add(number)
            return number, uf


def generate_portfolio(path: Path, count: int, today: dt.date) -> dict[str, Person]:
    """Write ``count`` generated debtors to ``path`` (a portfolio CSV) and script them.

    The same ``count`` always gives the same people, numbers, debts and answers.
    """
    rng = random.Random(SEED)
    weights = [w for w, _ in MIX]
    taken: set[str] = set()
    people: dict[str, Person] = {}
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(1, count + 1):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
            number, uf = _mobile(rng, taken)
            creditor, spoken = rng.choice(CREDITORS)
            cents = rng.randint(80_00, 3_500_00)
            due = today - dt.timedelta(days=rng.randint(5, 120))
            birth = rng.randint(1950, 2003)
            writer.writerow(
                [f"DEMO-{i:04d}", name, number, f"{cents / 100:.2f}", due.isoformat(),
                 creditor, "pt-BR", uf, "", birth, spoken]
            )  # fmt: skip
            make = rng.choices([m for _, m in MIX], weights)[0]
            people[number] = make(today, rng)
    return people
