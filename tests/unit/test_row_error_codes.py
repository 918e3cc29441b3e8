"""A refused import line carries a code a page can say in the user's language.

Every code of :class:`ivr.vocab.row_errors.RowErrorCode` has a text in both
locales (the upload page's, and the do-not-call page's for the codes its
import gives), each text names only values its code carries, and the
importers set the code and exactly those values wherever they refuse a line,
keeping the English reason the CLI prints.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from ivr.store.dnc import read_list
from ivr.store.import_report import RowError
from ivr.store.importer import read_rows
from ivr.vocab.locales import LOCALES
from ivr.vocab.row_errors import (
    DNC_ROW_ERRORS,
    ROW_ERROR_PARAMS,
    ROW_ERROR_WORDS,
    RowErrorCode,
)
from scheduler.payments import PaymentRejected, parse_amount, parse_paid_on

I18N = Path(__file__).resolve().parents[2] / "ivr" / "web" / "static" / "i18n"
SLOTS = re.compile(r"\{(\w+)\}")
HEADER = (
    "external_ref,name,phone,amount,due_date,creditor,locale,region,timezone,birth_year,"
    "document,creditor_spoken,payment_url,pix_code,boleto_line,calls_allowed,sms_allowed,"
    "preferred_channel\n"
)
GOOD = ["R0", "Maria", "+5511987654321", "10", "2026-12-01", "Loja", "pt-BR"] + [""] * 11


def _words(locale: str, bundle: str) -> dict[str, str]:
    return dict(json.loads((I18N / locale / f"{bundle}.json").read_text("utf-8")))


def test_every_code_has_its_params_declared() -> None:
    assert set(ROW_ERROR_PARAMS) == set(RowErrorCode)
    assert set(RowErrorCode) >= DNC_ROW_ERRORS


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("bundle", "codes"), [("upload", set(RowErrorCode)), ("dnc", DNC_ROW_ERRORS)]
)
def test_every_code_has_a_text_naming_only_its_values(
    locale: str, bundle: str, codes: set[RowErrorCode]
) -> None:
    words = _words(locale, bundle)
    for code in codes:
        text = words.get(f"{bundle}.rowErrors.{code}")
        assert text, (locale, bundle, code)
        assert set(SLOTS.findall(text)) <= ROW_ERROR_PARAMS[code] | {"reason"}, (code, text)
    known = {k for k in words if k.startswith(f"{bundle}.rowErrors.")}
    assert known == {f"{bundle}.rowErrors.{c}" for c in codes}, "a text for no code"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_word_a_param_holds_has_a_text(locale: str) -> None:
    words = _words(locale, "upload")
    for param, values in ROW_ERROR_WORDS.items():
        for value in values:
            assert words.get(f"upload.rowWords.{param}.{value}"), (locale, param, value)


def _row(**cells: str) -> str:
    columns = HEADER.strip().split(",")
    values = dict(zip(columns, GOOD, strict=True)) | cells
    return ",".join(values[c] for c in columns) + "\n"


def _check(error: RowError, code: RowErrorCode, **params: str) -> None:
    assert error.code == code, error
    assert set(error.params) == ROW_ERROR_PARAMS[code], error
    for name, value in params.items():
        assert error.params[name] == value, error


def test_debtor_rows_refused_with_their_codes(tmp_path: Path) -> None:
    cases: list[tuple[str, RowErrorCode, dict[str, str]]] = [
        (_row(external_ref="R1", name=""), RowErrorCode.EMPTY, {"column": "name"}),
        (_row(external_ref="R2", name="=SUM(A1)"), RowErrorCode.FORMULA, {"char": "="}),
        (_row(external_ref="R3", name="x" * 201), RowErrorCode.TOO_LONG, {"limit": "200"}),
        (_row(external_ref="R4", phone="12345"), RowErrorCode.PHONE_INVALID, {"value": "12345"}),
        (_row(external_ref="R5", phone="abc"), RowErrorCode.PHONE_UNREADABLE, {"value": "abc"}),
        (
            _row(external_ref="R6", phone="+12125550148"),
            RowErrorCode.PHONE_FOREIGN,
            {"found": "US"},
        ),
        (
            _row(external_ref="R7", phone="0800 123 4567"),
            RowErrorCode.PHONE_NOT_PERSONAL,
            {"kind": "toll_free"},
        ),
        (_row(external_ref="R8", amount="dez"), RowErrorCode.AMOUNT_INVALID, {"value": "dez"}),
        (_row(external_ref="R9", amount="0"), RowErrorCode.AMOUNT_NOT_POSITIVE, {}),
        (_row(external_ref="R10", due_date="2026-02-30"), RowErrorCode.DATE_NOT_REAL, {}),
        (_row(external_ref="R11", due_date="amanhã"), RowErrorCode.DATE_INVALID, {"format": "dmy"}),
        (
            _row(external_ref="R12", locale="fr-FR"),
            RowErrorCode.LOCALE_UNSUPPORTED,
            {"value": "fr-FR"},
        ),
        (_row(external_ref="R13", region="XX"), RowErrorCode.REGION_UNKNOWN, {"country": "BR"}),
        (_row(external_ref="R14", timezone="Mars/Olympus"), RowErrorCode.TIMEZONE_UNKNOWN, {}),
        (_row(external_ref="R15", birth_year="1800"), RowErrorCode.BIRTH_YEAR_INVALID, {}),
        (_row(external_ref="R16", document="12"), RowErrorCode.DOCUMENT_TOO_SHORT, {"digits": "4"}),
        (_row(external_ref="R17", creditor_spoken="Banco"), RowErrorCode.SPOKEN_FORM_INVALID, {}),
        (
            _row(external_ref="R18", payment_url="http://x.example"),
            RowErrorCode.PAYMENT_URL_INVALID,
            {},
        ),
        (_row(external_ref="R19", pix_code="000201"), RowErrorCode.PIX_CODE_INVALID, {}),
        (_row(external_ref="R20", boleto_line="123"), RowErrorCode.BOLETO_LINE_INVALID, {}),
        (
            _row(external_ref="R21", calls_allowed="talvez"),
            RowErrorCode.YES_NO_INVALID,
            {"value": "talvez"},
        ),
        (_row(external_ref="R22", preferred_channel="fax"), RowErrorCode.CHANNEL_UNKNOWN, {}),
        (
            _row(external_ref="R23", sms_allowed="não", preferred_channel="sms"),
            RowErrorCode.CHANNEL_NOT_ALLOWED,
            {"column": "sms_allowed"},
        ),
        (_row(external_ref="R0"), RowErrorCode.DUPLICATE_REF, {"first_line": "2"}),
        ('R24,"Maria\n', RowErrorCode.CSV_UNTERMINATED_QUOTE, {}),
        (_row(external_ref="R25").strip() + ",extra\n", RowErrorCode.TOO_MANY_FIELDS, {}),
    ]
    body = HEADER + _row() + "".join(row for row, _, _ in cases)
    path = tmp_path / "p.csv"
    path.write_text(body, encoding="utf-8")
    rows, errors = read_rows(path, "pt-BR")
    assert [r.external_ref for r in rows] == ["R0"]
    assert [e.line for e in errors] == list(range(3, 3 + len(cases)))
    for error, (_, code, params) in zip(errors, cases, strict=True):
        _check(error, code, **params)
    # The English reason stays what the CLI always printed.
    assert errors[3].reason == "phone '12345' is not a valid number"


def test_payment_rows_refused_with_their_codes() -> None:
    today = dt.date(2026, 6, 1)
    for call, code in [
        (lambda: parse_amount("abc"), RowErrorCode.AMOUNT_INVALID),
        (lambda: parse_paid_on("ontem", today), RowErrorCode.DATE_INVALID),
        (lambda: parse_paid_on("2026-07-01", today), RowErrorCode.DATE_FUTURE),
    ]:
        with pytest.raises(PaymentRejected) as caught:
            call()
        _check(RowError.of(7, caught.value), code)


def test_dnc_lines_refused_with_their_codes() -> None:
    report = read_list("telefone;nome\n(11) 9876-54;Ana\n;Bia\n" + "1" * 201 + "\n")
    assert [e.line for e in report.errors] == [2, 3, 4]
    _check(report.errors[0], RowErrorCode.PHONE_INVALID, value="(11) 9876-54")
    _check(report.errors[1], RowErrorCode.EMPTY, column="number")
    _check(report.errors[2], RowErrorCode.LINE_TOO_LONG, limit="200")
    assert {e.code for e in report.errors} <= DNC_ROW_ERRORS
