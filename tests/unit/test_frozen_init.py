"""``scheduler.frozen.direct_init`` builds the same frozen rows as the dataclass's own init."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from scheduler.caps import CapBlock, PastAttempt
from scheduler.eligibility import Explanation
from scheduler.frozen import direct_init
from scheduler.reasons import Reason
from scheduler.snapshot import CallbackRow, DebtRow, PhoneRow, PromiseRow

NOW = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)


def twin(cls: type) -> type:
    """The same fields, built by the dataclass's own (generated) init."""
    fields = [(f.name, f.type, f) for f in dataclasses.fields(cls)]
    plain = dataclasses.make_dataclass(f"Plain{cls.__name__}", fields, frozen=True)
    return plain


@pytest.mark.parametrize(
    ("cls", "args", "kwargs"),
    [
        (PhoneRow, (1, "+5511987654321", 0, None), {}),
        (PhoneRow, (1, "+5511987654321", 0, NOW, NOW, ("nml",), "BR", "America/Sao_Paulo"), {}),
        (DebtRow, (1, "open", 2, NOW.date(), None), {}),
        (PromiseRow, (1, 2, NOW.date()), {"shields": False}),
        (CallbackRow, (1, None, NOW), {}),
        (PastAttempt, (NOW, "completed"), {"attempt_id": 7}),
        (CapBlock, ("daily_cap", "m", {"cap": 1}, None), {}),
        (Reason, ("holiday", "m"), {}),
        (Reason, ("holiday", "m", {"zones": []}, NOW), {}),
        (Explanation, (True, [], 1), {"zones": ("America/Sao_Paulo",), "country": "US"}),
    ],
)
def test_rows_match_the_dataclass_init(cls: type, args: tuple[Any, ...], kwargs: dict) -> None:
    row = cls(*args, **kwargs)
    plain = twin(cls)(*args, **kwargs)
    assert vars(row) == vars(plain)
    assert list(vars(row)) == list(vars(plain))  # same order
    assert repr(row).removeprefix(cls.__name__) == repr(plain).removeprefix(type(plain).__name__)
    assert row == cls(*args, **kwargs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.x = 1  # type: ignore[attr-defined]
    first = dataclasses.fields(cls)[0].name
    assert getattr(dataclasses.replace(row, **{first: args[0]}), first) == args[0]


def test_a_default_factory_gives_each_row_its_own_value() -> None:
    a, b = Reason("holiday", "m"), Reason("holiday", "m")
    assert a.detail == {} and a.detail is not b.detail


def test_missing_arguments_fail_as_before() -> None:
    with pytest.raises(TypeError):
        PhoneRow(1, "+5511987654321")  # type: ignore[call-arg]


def test_unsupported_classes_are_refused() -> None:
    @dataclasses.dataclass
    class Mutable:
        a: int

    @dataclasses.dataclass(frozen=True)
    class Later:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True)
    class KeywordOnly:
        a: int = dataclasses.field(kw_only=True)

    for cls in (Mutable, Later, KeywordOnly):
        with pytest.raises(TypeError):
            direct_init(cls)
