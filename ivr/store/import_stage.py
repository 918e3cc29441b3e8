"""The PostgreSQL import's staging: its temporary tables, the COPY text that
fills them, and the set-based statements that merge them into the store.

The COPY text is made where the rows are validated (possibly another
process: ``ivr.store.import_stream``), so the process that talks to the
database only forwards bytes. The statements are run by
``ivr.store.import_copy``, one chunk per transaction; each takes the range of
staged lines it merges (``:lo``..``:hi``), so a chunk the database refuses
can be narrowed down to the line at fault without staging it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivr.store.name_key import fold_name
from ivr.store.payment_columns import PAYMENT_COLUMNS

if TYPE_CHECKING:
    from ivr.store.import_rows import DebtorRow

STAGE = "import_debtor_stage"  # the chunk's rows, one per line
PHONE_STAGE = "import_phone_stage"  # their phones, in order
IDS = "import_debtor_ids"  # each merged line's debtor, and whether it is new
KEPT = "import_kept_refs"  # every reference the import kept so far (whole import)

STAGE_COLUMNS = (
    "line",
    "external_ref",
    "name",
    "name_key",
    "locale",
    "country",
    "region",
    "timezone",
    "birth_year",
    "document_digits",
    "calls_allowed",
    "sms_allowed",
    "preferred_channel",
    "creditor",
    "creditor_spoken",
    "amount_cents",
    "currency",
    "due_date",
    *PAYMENT_COLUMNS,
)
PHONE_COLUMNS = ("line", "e164", "position", "number_country", "number_zones")

# Temporary: invisible to other sessions, no WAL. The chunk's tables empty at
# every commit; the kept references last for the import (dropped at its end).
CREATE = (
    f"DROP TABLE IF EXISTS {STAGE}, {PHONE_STAGE}, {IDS}, {KEPT}",
    f"CREATE TEMP TABLE {STAGE} ("
    " line integer PRIMARY KEY, external_ref text NOT NULL, name text, name_key text,"
    " locale text, country text, region text, timezone text, birth_year integer,"
    " document_digits text, calls_allowed boolean, sms_allowed boolean,"
    " preferred_channel text, creditor text, creditor_spoken text, amount_cents bigint,"
    " currency text, due_date date, payment_url text, pix_code text, boleto_line text)"
    " ON COMMIT DELETE ROWS",
    f"CREATE TEMP TABLE {PHONE_STAGE} ("
    " line integer, e164 text, position integer, number_country text, number_zones text)"
    " ON COMMIT DELETE ROWS",
    f"CREATE TEMP TABLE {IDS} ("
    " line integer PRIMARY KEY, debtor_id integer, fresh boolean) ON COMMIT DELETE ROWS",
    f"CREATE TEMP TABLE {KEPT} (external_ref text PRIMARY KEY, line integer)",
)
DROP = f"DROP TABLE IF EXISTS {STAGE}, {PHONE_STAGE}, {IDS}, {KEPT}"

# The rows a rule across rows can touch (ivr.store.import_sequence): a
# reference kept by an earlier chunk (looked up by its key, one probe per
# row), a reference twice in this chunk, or a spoken form. Usually none.
CANDIDATES = f"""
SELECT line, external_ref, creditor, locale, creditor_spoken, prior FROM (
  SELECT s.line, s.external_ref, s.creditor, s.locale, s.creditor_spoken,
         (SELECT k.line FROM {KEPT} k WHERE k.external_ref = s.external_ref) AS prior,
         count(*) OVER (PARTITION BY s.external_ref) AS copies
  FROM {STAGE} s
) c
WHERE prior IS NOT NULL OR creditor_spoken IS NOT NULL OR copies > 1
ORDER BY line
"""
DROP_LINES = (
    f"DELETE FROM {STAGE} WHERE line = ANY($1::integer[])",
    f"DELETE FROM {PHONE_STAGE} WHERE line = ANY($1::integer[])",
)
KEEP = f"INSERT INTO {KEPT} (external_ref, line) SELECT external_ref, line FROM {STAGE}"
LINES = f"SELECT line FROM {STAGE} ORDER BY line"
REF_OF = f"SELECT external_ref FROM {STAGE} WHERE line = $1"

_MERGING = "s.line BETWEEN :lo AND :hi"
_NOT_MERGED = f"NOT EXISTS (SELECT 1 FROM {IDS} i WHERE i.line = s.line)"

# An empty channel cell (NULL here) leaves what the debtor has.
UPDATE_DEBTORS = f"""
WITH up AS (
  UPDATE debtors d SET
    name = s.name, name_key = s.name_key, locale = s.locale, country = s.country,
    region = s.region, timezone = s.timezone, birth_year = s.birth_year,
    document_digits = s.document_digits,
    calls_allowed = COALESCE(s.calls_allowed, d.calls_allowed),
    sms_allowed = COALESCE(s.sms_allowed, d.sms_allowed),
    preferred_channel = COALESCE(s.preferred_channel, d.preferred_channel),
    updated_at = :now, next_attempt_at = NULL
  FROM {STAGE} s
  WHERE d.external_ref = s.external_ref AND {_MERGING} AND {_NOT_MERGED}
  RETURNING d.id, s.line
)
INSERT INTO {IDS} (line, debtor_id, fresh) SELECT line, id, false FROM up
"""

INSERT_DEBTORS = f"""
WITH ins AS (
  INSERT INTO debtors (external_ref, name, name_key, locale, country, region, timezone,
                       birth_year, document_digits, calls_allowed, sms_allowed,
                       preferred_channel, created_at, updated_at)
  SELECT external_ref, name, name_key, locale, country, region, timezone, birth_year,
         document_digits, COALESCE(calls_allowed, true), COALESCE(sms_allowed, true),
         preferred_channel, CAST(:now AS timestamptz), CAST(:now AS timestamptz)
  FROM {STAGE} s
  WHERE {_MERGING} AND {_NOT_MERGED}
  ORDER BY s.line
  ON CONFLICT (external_ref) DO NOTHING
  RETURNING id, external_ref
)
INSERT INTO {IDS} (line, debtor_id, fresh)
SELECT s.line, ins.id, true FROM ins JOIN {STAGE} s ON s.external_ref = ins.external_ref
WHERE {_MERGING}
"""

_IDS_MERGING = "i.line BETWEEN :lo AND :hi"

DELETE_PHONES = f"""
DELETE FROM phones p USING {IDS} i
WHERE NOT i.fresh AND {_IDS_MERGING} AND p.debtor_id = i.debtor_id
  AND NOT EXISTS (SELECT 1 FROM {PHONE_STAGE} sp WHERE sp.line = i.line AND sp.e164 = p.e164)
"""

# A new debtor's phones are plain inserts; a known one's may exist already
# (and keep the facts stored with them).
INSERT_PHONES = f"""
INSERT INTO phones (debtor_id, e164, position, number_country, number_zones)
SELECT i.debtor_id, sp.e164, sp.position, sp.number_country, sp.number_zones
FROM {PHONE_STAGE} sp JOIN {IDS} i USING (line)
WHERE i.fresh AND {_IDS_MERGING}
"""

UPSERT_PHONES = f"""
INSERT INTO phones (debtor_id, e164, position, number_country, number_zones)
SELECT i.debtor_id, sp.e164, sp.position, sp.number_country, sp.number_zones
FROM {PHONE_STAGE} sp JOIN {IDS} i USING (line)
WHERE NOT i.fresh AND {_IDS_MERGING}
ON CONFLICT (debtor_id, e164) DO UPDATE SET position = EXCLUDED.position
WHERE phones.position IS DISTINCT FROM EXCLUDED.position
"""


def debt_statements(payment: tuple[str, ...]) -> tuple[str, str]:
    """UPDATE and INSERT of debts; only the payment columns the file has are written.

    A known debtor's first debt with the same creditor is updated (unless the
    file says what it already holds: no new row version for nothing); any
    other is inserted.
    """
    terms = ("amount_cents", "currency", "due_date", *payment)
    sets = ", ".join(f"{c} = m.{c}" for c in terms)
    old = ", ".join(f"d.{c}" for c in terms)
    new = ", ".join(f"m.{c}" for c in terms)
    update = f"""
UPDATE debts d SET {sets}, campaign_id = :campaign
FROM (
  SELECT DISTINCT ON (x.debtor_id, x.creditor) x.id, s.*
  FROM {IDS} i JOIN {STAGE} s USING (line)
  JOIN debts x ON x.debtor_id = i.debtor_id AND x.creditor = s.creditor
  WHERE NOT i.fresh AND {_IDS_MERGING}
  ORDER BY x.debtor_id, x.creditor, x.id
) m
WHERE d.id = m.id
  AND (({old}, d.campaign_id) IS DISTINCT FROM ({new}, CAST(:campaign AS integer)))
"""
    cols = "".join(f", {c}" for c in payment)
    values = "".join(f", s.{c}" for c in payment)
    insert = f"""
INSERT INTO debts (debtor_id, campaign_id, creditor, amount_cents, currency, due_date,
                   status, created_at{cols})
SELECT i.debtor_id, CAST(:campaign AS integer), s.creditor, s.amount_cents, s.currency,
       s.due_date, CAST(:status AS text), CAST(:now AS timestamptz){values}
FROM {IDS} i JOIN {STAGE} s USING (line)
WHERE {_IDS_MERGING} AND (i.fresh OR NOT EXISTS (
  SELECT 1 FROM debts x WHERE x.debtor_id = i.debtor_id AND x.creditor = s.creditor))
"""
    return update, insert


# COPY's text format: tab-separated, \N for NULL, backslash escapes.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _text(value: object) -> str:
    if value is None:
        return _NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value).translate(_ESCAPES)


def copy_text(rows: list[DebtorRow]) -> tuple[bytes, bytes]:
    """The rows as COPY text for the debtor and phone staging tables."""
    debtors: list[str] = []
    phones: list[str] = []
    for r in rows:
        channels = dict(r.channels)
        values = (
            r.line,
            r.external_ref,
            r.name,
            fold_name(r.name),
            r.locale,
            r.country,
            r.region,
            r.timezone,
            r.birth_year,
            r.document_digits,
            channels.get("calls_allowed"),
            channels.get("sms_allowed"),
            channels.get("preferred_channel"),
            r.creditor,
            r.creditor_spoken,
            r.amount_cents,
            r.currency,
            r.due_date.isoformat(),
            *(r.payment.get(c) for c in PAYMENT_COLUMNS),
        )
        debtors.append("\t".join(map(_text, values)))
        for position, (e164, (country, zones)) in enumerate(
            zip(r.phones, r.phone_facts, strict=True)
        ):
            phones.append(f"{r.line}\t{_text(e164)}\t{position}\t{_text(country)}\t{_text(zones)}")
    return _lines(debtors), _lines(phones)


def _lines(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode() if lines else b""
