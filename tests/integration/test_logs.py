"""Logs: JSON off a terminal, readable on one, quiet libraries, no personal data."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging

import pytest
import structlog
from sqlalchemy import insert

from ivr.config import Settings
from ivr.logs import bind_ids, ids_bound, mask_phone, setup_logging
from ivr.store.db import make_engine
from ivr.store.models import Promise

log = structlog.get_logger("tests.logs")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


async def test_failing_write_logs_no_parameter_values(db_url: str, captured: io.StringIO) -> None:
    """Seen: a traceback quoted a promise's amount and date from the SQL parameters."""
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(Promise).values(
                    debt_id=987654,  # no such debt: the foreign key fails
                    attempt_id=None,
                    promised_date=dt.date(2031, 7, 19),
                    amount_cents=4242917,
                )
            )
    except Exception:
        log.exception("store.write_failed")
    else:  # pragma: no cover
        pytest.fail("the write should have failed")
    finally:
        await engine.dispose()
    text = captured.getvalue()
    assert "store.write_failed" in text and "Traceback" in text
    assert "4242917" not in text
    assert "2031-07-19" not in text and "2031, 7, 19" not in text
    assert "987654" not in text


def test_json_lines_off_a_terminal_with_bound_ids(captured: io.StringIO) -> None:
    with ids_bound(request_id="r-1"):
        bind_ids(call_sid="CA123", attempt_id=7)
        log.info("call.step", n=1)
    log.info("after")
    first, second = _lines(captured)
    assert first["event"] == "call.step" and first["level"] == "info"
    assert first["request_id"] == "r-1" and first["call_sid"] == "CA123"
    assert first["attempt_id"] == 7 and "timestamp" in first
    assert "request_id" not in second


def test_readable_lines_on_a_terminal() -> None:
    tty = _Tty()
    try:
        setup_logging(stream=tty)
        log.info("service.listening", port=8080)
        logging.getLogger("somelib").warning("library says %s", "hello")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    text = tty.getvalue()
    assert "service.listening" in text and "port" in text and "8080" in text
    assert "library says hello" in text
    assert not text.lstrip().startswith("{")


def test_personal_data_is_masked_or_dropped(captured: io.StringIO) -> None:
    log.info("call.placed", to="+5511987654321", name="Maria Souza", amount_cents=15000)
    logging.getLogger("twilio.http_client").warning("POST To=+5511987654321")
    log.info("asr.final", text="vou pagar dia vinte")
    log.debug("asr.final", text="vou pagar dia vinte")  # below INFO: not even emitted
    text = captured.getvalue()
    assert "+5511987654321" not in text and "987654321" not in text
    assert "+55*******4321" in text
    assert "Maria" not in text and "15000" not in text
    assert "vou pagar" not in text


def test_transcripts_only_at_debug_and_only_when_asked() -> None:
    out = io.StringIO()
    try:
        setup_logging(stream=out, verbose=True, transcripts=True)
        log.debug("asr.final", text="vou pagar dia vinte")
        log.info("dialog.heard", text="meu nome é Maria")
        setup_logging(stream=out, verbose=True, transcripts=False)
        log.debug("asr.final", text="quero falar com atendente")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    text = out.getvalue()
    assert "vou pagar dia vinte" in text  # debug + IVR_LOG_TRANSCRIPTS
    assert "Maria" not in text  # info: never
    assert "atendente" not in text  # debug without the setting: never
    assert Settings().log_transcripts is False


def test_mask_phone_keeps_enough_to_tell_calls_apart() -> None:
    assert mask_phone("to +12125550148 now") == "to +12*****0148 now"
    assert mask_phone("attempt 42") == "attempt 42"


async def test_scheduler_jobs_are_quiet(captured: io.StringIO) -> None:
    """APScheduler logs two lines per job run at INFO; an operator needs none of them."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    aps = AsyncIOScheduler(timezone=dt.UTC)
    aps.add_job(job, "interval", seconds=0.2, next_run_time=dt.datetime.now(dt.UTC))
    aps.start()
    try:
        await asyncio.wait_for(ran.wait(), 5)
        await asyncio.sleep(0.3)
    finally:
        aps.shutdown(wait=False)
    text = captured.getvalue()
    assert "Running job" not in text and "executed successfully" not in text


def test_mask_leaves_dates_and_ids_alone() -> None:
    assert mask_phone("2026-12-02T07:11:10.631454Z id 123456789") == (
        "2026-12-02T07:11:10.631454Z id 123456789"
    )
    assert mask_phone("To=%2B5511987654321&From=x") == "To=%2B55*******4321&From=x"
