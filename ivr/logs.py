"""Logging: one setup for structlog and the standard library, quiet and without personal data.

* Off a terminal (a container, a file, journald) every line is one JSON
  object; on a terminal lines are short and readable.
* Ids bound with :func:`bind_ids` (the request id by the web middleware, the
  call's sid and attempt by the webhooks and the media socket) appear on
  every line logged in that request or call, through ``contextvars``.
* Libraries that talk too much are kept at WARNING: APScheduler's per-job
  lines and twilio-python's request and header dumps say nothing an
  operator needs, and the latter carries phone numbers.
* Personal data never reaches a log line: phone numbers are masked wherever
  they appear, names and amounts are dropped, and what a caller said or was
  told (transcripts, prompt texts) is kept only at debug level and only when
  ``IVR_LOG_TRANSCRIPTS=true`` asks for it. Database errors are logged
  without their SQL parameters (see ``ivr.store.db``) and without the
  server's ``DETAIL`` line, which quotes the offending values.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.contextvars import bind_contextvars, bound_contextvars, merge_contextvars
from structlog.typing import EventDict, WrappedLogger

# Loggers that are noise at INFO: per-job scheduler lines, HTTP dumps, SQL.
QUIET_LOGGERS = (
    "apscheduler",
    "twilio",
    "twilio.http_client",
    "alembic",
    "aiosqlite",
    "asyncio",
    "sqlalchemy",
    "aiohttp.access",
)
# Quiet even with --verbose: they print request headers and phone numbers.
ALWAYS_QUIET = ("twilio", "twilio.http_client")

# What a caller said or was told: only at debug, only when asked for.
TRANSCRIPT_KEYS = frozenset({"text", "transcript", "heard", "speech", "words", "prompt_text"})
# Personal fields that never belong in a log line.
PERSONAL_KEYS = frozenset(
    {"name", "debtor_name", "amount", "amount_cents", "promised_date", "birth_year", "cpf"}
)
# E.164 numbers, also URL-encoded (%2B) as in form bodies and query strings.
_PHONE = re.compile(r"(\+|%2B)(\d{8,15})(?!\d)")
_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)


def mask_phone(text: str) -> str:
    """``+5511987650001`` -> ``+55*******0001``: enough to tell calls apart, not to dial."""

    def one(m: re.Match[str]) -> str:
        digits = m.group(2)
        return f"{m.group(1)}{digits[:2]}{'*' * (len(digits) - 6)}{digits[-4:]}"

    return _PHONE.sub(one, text)


class _Scrubber:
    """A processor removing personal data from every event, structlog's or a library's."""

    def __init__(self, transcripts: bool) -> None:
        self.transcripts = transcripts

    def __call__(self, _logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        keep_words = self.transcripts and method == "debug"
        for key in list(event):
            if key.startswith("_") or key in ("timestamp", "level", "logger"):
                continue
            if key in PERSONAL_KEYS or (key in TRANSCRIPT_KEYS and not keep_words):
                del event[key]
                continue
            value = event[key]
            if isinstance(value, str):
                event[key] = mask_phone(_DETAIL.sub(r"\1 [hidden]", value))
        return event


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def setup_logging(
    *,
    verbose: bool = False,
    transcripts: bool = False,
    json_lines: bool | None = None,
    stream: TextIO | None = None,
) -> None:
    """Configure structlog and the root logger; safe to call again (tests, the demo).

    ``json_lines`` None: JSON unless ``stream`` is a terminal.
    """
    stream = stream if stream is not None else sys.stderr
    level = logging.DEBUG if verbose else logging.INFO
    as_json = not _is_terminal(stream) if json_lines is None else json_lines
    shared: list[Any] = [
        merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso" if as_json else "%Y-%m-%d %H:%M:%S", utc=True),
        structlog.stdlib.ExtraAdder(),
        structlog.processors.format_exc_info,
        _Scrubber(transcripts),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(
            colors=_is_terminal(stream), exception_formatter=structlog.dev.plain_traceback
        )
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        quiet = name in ALWAYS_QUIET or not verbose
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=False,
    )


def bind_ids(**ids: Any) -> None:
    """Bind ids (``call_sid``, ``attempt_id``) to every later line of this task and its children."""
    bind_contextvars(**{k: v for k, v in ids.items() if v is not None})


@contextlib.contextmanager
def ids_bound(**ids: Any) -> Iterator[None]:
    """Like :func:`bind_ids` for a block; restores the previous ids after it."""
    with bound_contextvars(**{k: v for k, v in ids.items() if v is not None}):
        yield


def current_ids() -> MutableMapping[str, Any]:
    return structlog.contextvars.get_contextvars()
