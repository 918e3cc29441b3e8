"""Why an imported line was refused (``RowErrorCode``), as a word a page can translate.

Every import of a supervisor's file (a debtor portfolio, a payments file, a
do-not-call list) reports each bad line with its number, an English reason
for the CLI and the logs, and one of these codes with the values the reason
quotes (``params``), so the console says it in the user's language. A page
that meets a code it does not know shows the English reason.

The params each code carries (all strings; ``column`` is the file's column):

* ``empty`` -- ``column``: a required cell is blank.
* ``too_long`` -- ``column``, ``limit``: more characters than the column holds.
* ``formula`` -- ``column``, ``char``: text starting like a spreadsheet formula.
* ``control_chars`` -- ``column``: invisible control characters in the text.
* ``locale_unsupported`` -- ``value``, ``supported``.
* ``region_unknown`` -- ``value``, ``country``: not a state of the country.
* ``timezone_unknown`` -- ``value``: not an IANA time zone.
* ``birth_year_invalid`` -- ``value``.
* ``document_too_short`` -- ``digits``: fewer digits than the identity check needs
  (the number itself is never repeated).
* ``spoken_form_invalid`` -- ``value``: the creditor's spoken form cannot follow
  "em nome"/"on behalf of".
* ``spoken_form_conflict`` -- ``creditor``, ``first_line``: another spoken form
  than an earlier line for the same creditor.
* ``payment_url_invalid`` / ``pix_code_invalid`` / ``boleto_line_invalid`` --
  ``column``: a payment detail the debtor's bank would refuse.
* ``phone_unreadable`` / ``phone_invalid`` -- ``value``: not a phone number / not
  a real one.
* ``phone_foreign`` -- ``value``, ``found``, ``country``: a number of another country.
* ``phone_not_personal`` -- ``value``, ``kind``: premium-rate, toll-free, VoIP...
  (``kind``: ``premium_rate``, ``toll_free``, ``shared_cost``, ``voip``,
  ``personal_number``, ``pager``, ``uan``, ``voicemail``, ``unknown``).
* ``amount_invalid`` / ``amount_not_positive`` / ``amount_too_large`` -- ``value``.
* ``date_invalid`` -- ``column``, ``value``, ``format``; ``date_not_real`` --
  ``column``, ``value`` (e.g. 31/02); ``date_future`` -- ``column``, ``value``.
* ``yes_no_invalid`` -- ``column``, ``value``.
* ``channel_unknown`` -- ``value``; ``channel_not_allowed`` -- ``value``, ``column``:
  a preferred channel the same row forbids.
* ``duplicate_ref`` -- ``first_line``: the same ``external_ref`` earlier in the file.
* ``not_stored`` -- ``detail``: the database refused the row.
* ``csv_unterminated_quote`` / ``csv_text_after_quote``; ``csv_field_too_long`` --
  ``limit``; ``csv_unreadable`` -- ``detail``; ``too_many_fields`` -- ``fields``, ``width``.
* ``columns_missing`` -- ``columns``: the header lacks required columns.
* ``debt_unknown`` / ``debtor_unknown`` / ``no_open_debt`` -- ``value``: the
  reference a payment names.
* ``line_too_long`` -- ``limit``; ``number_column_missing``: a do-not-call line.
* ``other`` -- anything else; its English reason is all there is.
"""

from __future__ import annotations

import enum


class RowErrorCode(enum.StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    FORMULA = "formula"
    CONTROL_CHARS = "control_chars"
    LOCALE_UNSUPPORTED = "locale_unsupported"
    REGION_UNKNOWN = "region_unknown"
    TIMEZONE_UNKNOWN = "timezone_unknown"
    BIRTH_YEAR_INVALID = "birth_year_invalid"
    DOCUMENT_TOO_SHORT = "document_too_short"
    SPOKEN_FORM_INVALID = "spoken_form_invalid"
    SPOKEN_FORM_CONFLICT = "spoken_form_conflict"
    PAYMENT_URL_INVALID = "payment_url_invalid"
    PIX_CODE_INVALID = "pix_code_invalid"
    BOLETO_LINE_INVALID = "boleto_line_invalid"
    PHONE_UNREADABLE = "phone_unreadable"
    PHONE_INVALID = "phone_invalid"
    PHONE_FOREIGN = "phone_foreign"
    PHONE_NOT_PERSONAL = "phone_not_personal"
    AMOUNT_INVALID = "amount_invalid"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    AMOUNT_TOO_LARGE = "amount_too_large"
    DATE_INVALID = "date_invalid"
    DATE_NOT_REAL = "date_not_real"
    DATE_FUTURE = "date_future"
    YES_NO_INVALID = "yes_no_invalid"
    CHANNEL_UNKNOWN = "channel_unknown"
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"
    DUPLICATE_REF = "duplicate_ref"
    NOT_STORED = "not_stored"
    CSV_UNTERMINATED_QUOTE = "csv_unterminated_quote"
    CSV_TEXT_AFTER_QUOTE = "csv_text_after_quote"
    CSV_FIELD_TOO_LONG = "csv_field_too_long"
    CSV_UNREADABLE = "csv_unreadable"
    TOO_MANY_FIELDS = "too_many_fields"
    COLUMNS_MISSING = "columns_missing"
    DEBT_UNKNOWN = "debt_unknown"
    DEBTOR_UNKNOWN = "debtor_unknown"
    NO_OPEN_DEBT = "no_open_debt"
    LINE_TOO_LONG = "line_too_long"
    NUMBER_COLUMN_MISSING = "number_column_missing"
    OTHER = "other"


# The values each code quotes, by name (a page fills its text's "{name}" from them).
_C = RowErrorCode
ROW_ERROR_PARAMS: dict[RowErrorCode, frozenset[str]] = {
    code: frozenset(names)
    for code, names in {
        _C.EMPTY: ("column",),
        _C.TOO_LONG: ("column", "limit"),
        _C.FORMULA: ("column", "char"),
        _C.CONTROL_CHARS: ("column",),
        _C.LOCALE_UNSUPPORTED: ("value", "supported"),
        _C.REGION_UNKNOWN: ("value", "country"),
        _C.TIMEZONE_UNKNOWN: ("value",),
        _C.BIRTH_YEAR_INVALID: ("value",),
        _C.DOCUMENT_TOO_SHORT: ("digits",),
        _C.SPOKEN_FORM_INVALID: ("value",),
        _C.SPOKEN_FORM_CONFLICT: ("creditor", "first_line"),
        _C.PAYMENT_URL_INVALID: ("column",),
        _C.PIX_CODE_INVALID: ("column",),
        _C.BOLETO_LINE_INVALID: ("column",),
        _C.PHONE_UNREADABLE: ("value",),
        _C.PHONE_INVALID: ("value",),
        _C.PHONE_FOREIGN: ("value", "found", "country"),
        _C.PHONE_NOT_PERSONAL: ("value", "kind"),
        _C.AMOUNT_INVALID: ("value",),
        _C.AMOUNT_NOT_POSITIVE: ("value",),
        _C.AMOUNT_TOO_LARGE: ("value",),
        _C.DATE_INVALID: ("column", "value", "format"),
        _C.DATE_NOT_REAL: ("column", "value"),
        _C.DATE_FUTURE: ("column", "value"),
        _C.YES_NO_INVALID: ("column", "value"),
        _C.CHANNEL_UNKNOWN: ("value",),
        _C.CHANNEL_NOT_ALLOWED: ("value", "column"),
        _C.DUPLICATE_REF: ("first_line",),
        _C.NOT_STORED: ("detail",),
        _C.CSV_UNTERMINATED_QUOTE: (),
        _C.CSV_TEXT_AFTER_QUOTE: (),
        _C.CSV_FIELD_TOO_LONG: ("limit",),
        _C.CSV_UNREADABLE: ("detail",),
        _C.TOO_MANY_FIELDS: ("fields", "width"),
        _C.COLUMNS_MISSING: ("columns",),
        _C.DEBT_UNKNOWN: ("value",),
        _C.DEBTOR_UNKNOWN: ("value",),
        _C.NO_OPEN_DEBT: ("value",),
        _C.LINE_TOO_LONG: ("limit",),
        _C.NUMBER_COLUMN_MISSING: (),
        _C.OTHER: (),
    }.items()
}
# Words some params hold, which a page translates too (``<bundle>.rowWords.<param>.<word>``).
ROW_ERROR_WORDS: dict[str, frozenset[str]] = {
    "kind": frozenset(
        {
            "premium_rate",
            "toll_free",
            "shared_cost",
            "voip",
            "personal_number",
            "pager",
            "uan",
            "voicemail",
            "unknown",
        }
    ),
    "format": frozenset({"dmy", "mdy"}),
}
# The codes a do-not-call list's import can give (its page translates only these).
DNC_ROW_ERRORS: frozenset[RowErrorCode] = frozenset(
    {
        _C.EMPTY,
        _C.TOO_LONG,
        _C.PHONE_INVALID,
        _C.LINE_TOO_LONG,
        _C.CSV_UNREADABLE,
        _C.NUMBER_COLUMN_MISSING,
        _C.OTHER,
    }
)
