"""What an import of a supervisor's file reports: every rejected line, one way.

The debtor import (``ivr.store.importer``), the payment import
(``scheduler.payments``) and the do-not-call import (``ivr.store.dnc``) land
the good rows and report each bad one by its line number (the header is
line 1) and reason. They share :class:`RowError` so a rejected line means the
same thing, and prints the same way, whichever file it came from; what each
import counts differs, so each has its own report built on :class:`ImportReport`.

A reason is English (the CLI prints it); the console shows the line in the
user's language from its ``code`` (:class:`ivr.vocab.row_errors.RowErrorCode`)
and the values it quotes (``params``). A check that refuses a row raises
:class:`RowRejected` (or a subclass) carrying all three.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.vocab.row_errors import RowErrorCode

Params = Mapping[str, str]


class RowRejected(ValueError):
    """A line that cannot be imported: the English reason, its code and the values it quotes."""

    def __init__(
        self,
        reason: str,
        code: RowErrorCode = RowErrorCode.OTHER,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.params: dict[str, str] = {k: str(v) for k, v in (params or {}).items()}


@dataclass(frozen=True)
class RowError:
    """One rejected line: its number, why (in English, and as a code with its values),
    and the row's ``external_ref`` if known."""

    line: int
    reason: str
    external_ref: str = ""
    code: RowErrorCode = RowErrorCode.OTHER
    params: Params = field(default_factory=dict)

    @classmethod
    def of(cls, line: int, exc: Exception, external_ref: str = "") -> RowError:
        """The line refused by ``exc``; its code and values when it is a :class:`RowRejected`."""
        if isinstance(exc, RowRejected):
            return cls(line, str(exc), external_ref, exc.code, dict(exc.params))
        return cls(line, str(exc), external_ref)

    def __str__(self) -> str:
        ref = f" ({self.external_ref})" if self.external_ref else ""
        return f"line {self.line}{ref}: {self.reason}"


@dataclass
class ImportReport:
    """The rejected lines of one import; subclasses add what that import counts."""

    errors: list[RowError] = field(default_factory=list)
