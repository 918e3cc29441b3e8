"""Which good rows of a debtor file are kept: the rules that span rows.

A row is checked on its own in ``ivr.store.import_rows``; two rules need the
rows before it, taken in file order:

* an ``external_ref`` that an earlier kept row has is refused (the first is
  kept: two lines for one debtor is a mistake in the file, not an update);
* a creditor's spoken form is one per locale: a row giving another one than
  the first kept row that gave one is refused.

A row refused by either rule is not "kept": it neither claims its reference
nor sets a spoken form. The rules are written once, here, over *candidates*
in line order. What a caller must hand over depends on where the file's
references are remembered:

* in memory (:class:`Sequencer` with ``remember=True``): every good row;
* elsewhere, e.g. the PostgreSQL import's table of the references already
  kept (``ivr.store.import_copy``): only the rows a rule can touch (a
  reference kept before, or seen twice in the chunk, or a spoken form), each
  with the line that kept its reference earlier (``prior``). A row with none
  of those is kept whatever comes before it, and changes nothing for the rows
  after it but its reference, which the caller remembers itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ivr.store.import_report import RowError
from ivr.vocab.row_errors import RowErrorCode


@dataclass(frozen=True, slots=True)
class Candidate:
    """A good row, as far as the rules across rows look at it."""

    line: int
    external_ref: str
    creditor: str
    locale: str
    spoken: str | None  # the creditor's spoken form the row gives, if any
    prior: int | None = None  # the line that kept this reference earlier, if known


class Sequencer:
    """Applies the rules across rows to candidates handed over in line order."""

    def __init__(self, *, remember: bool) -> None:
        # remember: keep every kept reference here (else the caller does, and
        # says so through Candidate.prior).
        self._remember = remember
        self._kept: dict[str, int] = {}
        self._spoken: dict[tuple[str, str], tuple[str, int]] = {}

    def sift(self, candidates: Iterable[Candidate]) -> list[RowError]:
        """The refused candidates' errors; every other candidate is kept."""
        kept = self._kept if self._remember else {}
        errors: list[RowError] = []
        for c in candidates:
            first = c.prior if c.prior is not None else kept.get(c.external_ref)
            if first is not None:
                why = f"external_ref repeats line {first}; first kept"
                params = {"first_line": str(first)}
                errors.append(
                    RowError(c.line, why, c.external_ref, RowErrorCode.DUPLICATE_REF, params)
                )
                continue
            if c.spoken is not None:
                said, line = self._spoken.setdefault((c.creditor, c.locale), (c.spoken, c.line))
                if said != c.spoken:
                    why = f"creditor_spoken differs from line {line} ({said!r}) for {c.creditor!r}"
                    code = RowErrorCode.SPOKEN_FORM_CONFLICT
                    params = {"creditor": c.creditor, "first_line": str(line)}
                    errors.append(RowError(c.line, why, c.external_ref, code, params))
                    continue
            kept[c.external_ref] = c.line
        return errors
