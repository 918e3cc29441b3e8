"""The debt file's optional channel columns: ``calls_allowed``, ``sms_allowed``
(yes/no) and ``preferred_channel`` (call|sms).

Kept apart from the importer so the file's other columns can change without
touching this. A value is read in English or Portuguese (``yes``, ``no``,
``true``, ``false``, ``1``, ``0``, ``sim``, ``não``/``nao``; any case); any
other value rejects the row with its reason. An empty cell, or a column the
file does not have, leaves the debtor as they are (a new debtor: both allowed,
no preference), so a re-import never undoes what the debtor asked for through
an agent. A preference for a channel the same row forbids is a contradiction,
and rejected too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr.store.import_report import RowRejected
from ivr.vocab.messages import Channel
from ivr.vocab.row_errors import RowErrorCode

CHANNEL_COLUMNS = ("calls_allowed", "sms_allowed", "preferred_channel")
#: What a new debtor gets for a column the file leaves empty.
CHANNEL_DEFAULTS: dict[str, Any] = {
    "calls_allowed": True,
    "sms_allowed": True,
    "preferred_channel": None,
}
YES = frozenset({"yes", "y", "true", "1", "sim", "s"})
NO = frozenset({"no", "n", "false", "0", "não", "nao"})
_ALLOWS = {Channel.CALL: "calls_allowed", Channel.SMS: "sms_allowed"}


class ChannelInvalid(RowRejected):
    """A channel column's value the row cannot be imported with."""


def yes_no(column: str, raw: str) -> bool:
    """``raw`` as a yes or a no, or :class:`ChannelInvalid` naming the column."""
    word = raw.strip().casefold()
    if word in YES:
        return True
    if word in NO:
        return False
    raise ChannelInvalid(
        f"{column} {raw!r} is not yes or no (yes/no, true/false, 1/0, sim/não)",
        RowErrorCode.YES_NO_INVALID,
        {"column": column, "value": raw},
    )


def channel_choices(row: Mapping[str, str | None]) -> tuple[tuple[str, Any], ...]:
    """The channel columns the row gives, checked: ((column, value), ...)."""
    out: dict[str, Any] = {}
    for column in ("calls_allowed", "sms_allowed"):
        raw = (row.get(column) or "").strip()
        if raw:
            out[column] = yes_no(column, raw)
    raw = (row.get("preferred_channel") or "").strip()
    if raw:
        try:
            preferred = Channel(raw.casefold())
        except ValueError:
            raise ChannelInvalid(
                f"preferred_channel {raw!r} is not call or sms",
                RowErrorCode.CHANNEL_UNKNOWN,
                {"value": raw},
            ) from None
        if out.get(_ALLOWS[preferred]) is False:
            raise ChannelInvalid(
                f"preferred_channel {raw!r} is a channel this row does not allow "
                f"({_ALLOWS[preferred]} is no)",
                RowErrorCode.CHANNEL_NOT_ALLOWED,
                {"value": raw, "column": _ALLOWS[preferred]},
            )
        out["preferred_channel"] = preferred
    return tuple(out.items())
