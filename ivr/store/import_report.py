"""What an import of a supervisor's file reports: every rejected line, one way.

The debtor import (``ivr.store.importer``) and the payment import
(``scheduler.payments``) both land the good rows and report each bad one by
its line number (the header is line 1) and reason. They share
:class:`RowError` so a rejected line means the same thing, and prints the
same way, whichever file it came from; what each import counts differs, so
each has its own report built on :class:`ImportReport`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowError:
    """One rejected line: its number, why, and the row's ``external_ref`` if known."""

    line: int
    reason: str
    external_ref: str = ""

    def __str__(self) -> str:
        ref = f" ({self.external_ref})" if self.external_ref else ""
        return f"line {self.line}{ref}: {self.reason}"


@dataclass
class ImportReport:
    """The rejected lines of one import; subclasses add what that import counts."""

    errors: list[RowError] = field(default_factory=list)
