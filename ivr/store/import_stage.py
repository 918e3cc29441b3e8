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
    f"CREATE INDEX ON {PHONE_STAGE} (line)",
    f"CREATE TEMP TABLE {IDS} ("
    " line integer PRIMARY KEY, debtor_id integer, fresh boolean, phones_changed boolean)"
    " ON COMMIT DELETE ROWS",
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
# The chunk's kept references join the import's; the lines to merge.
KEEP = f"""
WITH kept AS (
  INSERT INTO {KEPT} (external_ref, line) SELECT external_ref, line FROM {STAGE} RETURNING line
)
SELECT min(line), max(line), count(*) FROM kept
"""
LINES = f"SELECT line FROM {STAGE} WHERE line BETWEEN $1 AND $2 ORDER BY line"

# A chunk is a few thousand rows of tables of millions: its statements that
# find rows of the store must look each one up by an index. Told the store's
# sizes (and the chunk's, which it does not know), the planner preferred to
# read a whole table into a hash for every chunk. Hash joins stay for the
# statements that join the chunk's own tables.
BY_INDEX = (
    "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"
)
BY_HASH = (
    "SELECT set_config('enable_hashjoin', 'on', true), set_config('enable_mergejoin', 'on', true)"
)
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

# A known debtor whose stored phones are the file's, at the same positions,
# has nothing to delete or move: one look at them spares the two statements
# that would each look again (a re-import mostly changes nothing).
PHONES_CHANGED = f"""
WITH marked AS (
  UPDATE {IDS} i SET phones_changed = (
    SELECT array_agg(p.e164 || ' ' || p.position ORDER BY p.e164, p.position)
    FROM phones p WHERE p.debtor_id = i.debtor_id
  ) IS DISTINCT FROM (
    SELECT array_agg(sp.e164 || ' ' || sp.position ORDER BY sp.e164, sp.position)
    FROM {PHONE_STAGE} sp WHERE sp.line = i.line
  )
  WHERE NOT i.fresh AND {_IDS_MERGING}
  RETURNING phones_changed
)
SELECT count(*) FILTER (WHERE phones_changed) FROM marked
"""

DELETE_PHONES = f"""
DELETE FROM phones p USING {IDS} i
WHERE i.phones_changed AND {_IDS_MERGING} AND p.debtor_id = i.debtor_id
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
WHERE i.phones_changed AND {_IDS_MERGING}
ON CONFLICT (debtor_id, e164) DO UPDATE SET position = EXCLUDED.position
WHERE phones.position IS DISTINCT FROM EXCLUDED.position
"""


def debt_statements(payment: tuple[str, ...]) -> tuple[str, str]:
    """INSERT of a new debtor's debt, and the merge of a known debtor's; only
    the payment columns the file has are written.

    A known debtor's first debt with the same creditor is updated (unless the
    file says what it already holds: no new row version for nothing); if it
    has none, one is inserted. Each is found once, by the debtor's index. A
    new debtor has no debt to look for: its insert is a plain join.
    """
    terms = ("amount_cents", "currency", "due_date", *payment)
    sets = ", ".join(f"{c} = m.{c}" for c in terms)
    old = ", ".join(f"d.{c}" for c in terms)
    new = ", ".join(f"m.{c}" for c in terms)
    cols = "".join(f", {c}" for c in payment)
    values = "".join(f", s.{c}" for c in payment)
    merged = "".join(f", m.{c}" for c in payment)
    fresh = f"""
INSERT INTO debts (debtor_id, campaign_id, creditor, amount_cents, currency, due_date,
                   status, created_at{cols})
SELECT i.debtor_id, CAST(:campaign AS integer), s.creditor, s.amount_cents, s.currency,
       s.due_date, CAST(:status AS text), CAST(:now AS timestamptz){values}
FROM {IDS} i JOIN {STAGE} s USING (line)
WHERE i.fresh AND {_IDS_MERGING}
"""
    known = f"""
WITH m AS MATERIALIZED (
  SELECT i.debtor_id, s.*, (
    SELECT x.id FROM debts x WHERE x.debtor_id = i.debtor_id AND x.creditor = s.creditor
    ORDER BY x.id LIMIT 1
  ) AS debt_id
  FROM {IDS} i JOIN {STAGE} s USING (line)
  WHERE NOT i.fresh AND {_IDS_MERGING}
), changed AS (
  UPDATE debts d SET {sets}, campaign_id = :campaign
  FROM m
  WHERE d.id = m.debt_id
    AND (({old}, d.campaign_id) IS DISTINCT FROM ({new}, CAST(:campaign AS integer)))
)
INSERT INTO debts (debtor_id, campaign_id, creditor, amount_cents, currency, due_date,
                   status, created_at{cols})
SELECT m.debtor_id, CAST(:campaign AS integer), m.creditor, m.amount_cents, m.currency,
       m.due_date, CAST(:status AS text), CAST(:now AS timestamptz){merged}
FROM m WHERE m.debt_id IS NULL
"""
    return fresh, known


# COPY's text format: tab-separated, \N for NULL, backslash escapes. A chunk
# is written with stand-ins that no decoded text can hold (lone surrogates)
# for the separators and NULL, then escaped and resolved in a few passes over
# the whole chunk: per value, the work cost a tenth of the import's time.
_SEP, _NULL, _END = "\udc00", "\udc01", "\udc02"
_PASSES = (
    ("\\", "\\\\"),
    ("\t", "\\t"),
    ("\n", "\\n"),
    ("\r", "\\r"),
    (_SEP, "\t"),
    (_NULL, "\\N"),
    (_END, "\n"),
)
_NO_CHANNELS = _SEP.join((_NULL,) * 3)
_NO_PAYMENT = _SEP.join((_NULL,) * len(PAYMENT_COLUMNS))
_YES_NO = {True: "t", False: "f", None: _NULL}


def copy_text(rows: list[DebtorRow]) -> tuple[bytes, bytes]:
    """The rows as COPY text for the debtor and phone staging tables."""
    S, N, E = _SEP, _NULL, _END
    debtors: list[str] = []
    phones: list[str] = []
    for r in rows:
        if r.channels:
            given = dict(r.channels)
            preferred = given.get("preferred_channel")
            channels = S.join(
                (
                    _YES_NO[given.get("calls_allowed")],  # type: ignore[index]
                    _YES_NO[given.get("sms_allowed")],  # type: ignore[index]
                    N if preferred is None else str(preferred),
                )
            )
        else:
            channels = _NO_CHANNELS
        if r.payment:
            payment = S.join(N if (v := r.payment.get(c)) is None else v for c in PAYMENT_COLUMNS)
        else:
            payment = _NO_PAYMENT
        debtors.append(
            f"{r.line}{S}{r.external_ref}{S}{r.name}{S}{fold_name(r.name)}{S}{r.locale}{S}"
            f"{r.country}{S}{N if r.region is None else r.region}{S}"
            f"{N if r.timezone is None else r.timezone}{S}"
            f"{N if r.birth_year is None else r.birth_year}{S}"
            f"{N if r.document_digits is None else r.document_digits}{S}{channels}{S}"
            f"{r.creditor}{S}{N if r.creditor_spoken is None else r.creditor_spoken}{S}"
            f"{r.amount_cents}{S}{r.currency}{S}{r.due_date.isoformat()}{S}{payment}{E}"
        )
        for position, (e164, (country, zones)) in enumerate(
            zip(r.phones, r.phone_facts, strict=True)
        ):
            phones.append(
                f"{r.line}{S}{e164}{S}{position}{S}{country}{S}{N if zones is None else zones}{E}"
            )
    return _resolved(debtors), _resolved(phones)


def _resolved(lines: list[str]) -> bytes:
    text = "".join(lines)
    for stand_in, written in _PASSES:
        text = text.replace(stand_in, written)
    return text.encode()
