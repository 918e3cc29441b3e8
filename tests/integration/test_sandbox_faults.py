"""Injected carrier faults: 429/5xx answers, slow answers, the CPS limit."""

from __future__ import annotations

import asyncio

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import FaultConfig, SandboxConfig
from ivr.sandbox.testkit import ServiceStub
from tests.support.sandbox import FROM, make_client


async def create_with_retries(client: Client, attempts: int, **kwargs):
    """What a dialer does: retry 429/5xx, give up on other errors."""
    errors: list[int] = []
    for _ in range(attempts):
        try:
            return await client.calls.create_async(**kwargs), errors
        except TwilioRestException as exc:
            if exc.status != 429 and exc.status < 500:
                raise
            errors.append(exc.code)
    raise AssertionError(f"still failing after {attempts} attempts: {errors}")


async def test_429_then_success_with_retries():
    async with Sandbox(SandboxConfig(speed=20.0)) as sb, ServiceStub(sb.auth_token) as stub:
        sb.faults.fail_next(2, status=429)
        client, http = make_client(sb)
        try:
            call, errors = await create_with_retries(
                client, 5, to="+5511999994001", from_=FROM, url=stub.url + "/voice"
            )
        finally:
            await http.close()
        assert errors == [20429, 20429]
        assert list(sb.calls) == [call.sid]  # the refused attempts created nothing


async def test_5xx_bodies_and_codes():
    async with Sandbox(SandboxConfig(speed=20.0)) as sb:
        client, http = make_client(sb)
        try:
            for status, code in ((503, 20503), (500, 20500)):
                sb.faults.fail_next(1, status=status)
                with pytest.raises(TwilioRestException) as info:
                    await client.calls.create_async(
                        to="+5511999994002", from_=FROM, url="http://x.test/v"
                    )
                assert (info.value.status, info.value.code) == (status, code)
        finally:
            await http.close()
        assert sb.calls == {}


async def test_error_rate_is_seeded_and_partial():
    faults = FaultConfig(rest_error_rate=0.5, rest_error_rate_status=503, seed=3)
    async with Sandbox(SandboxConfig(speed=20.0, faults=faults)) as sb:
        client, http = make_client(sb)
        outcomes = []
        try:
            for _ in range(20):
                try:
                    await client.calls("CA" + "0" * 32).fetch_async()
                except TwilioRestException as exc:
                    outcomes.append(exc.status)  # 404 got through, 503 is the fault
        finally:
            await http.close()
    assert set(outcomes) == {404, 503}


async def test_slow_answer_trips_a_client_timeout():
    faults = FaultConfig(rest_delay_s=1.0)
    async with Sandbox(SandboxConfig(speed=20.0, faults=faults)) as sb:
        client, http = make_client(sb)
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.calls.list_async(), 0.2)
            faults.rest_delay_s = 0.0
            assert await client.calls.list_async() == []
        finally:
            await http.close()


async def test_cps_reject_mode_answers_429():
    config = SandboxConfig(speed=20.0, cps=1.0, cps_mode="reject")
    async with Sandbox(config) as sb, ServiceStub(sb.auth_token) as stub:
        client, http = make_client(sb)
        try:
            await client.calls.create_async(to="+5511999994010", from_=FROM, url=stub.url + "/v")
            with pytest.raises(TwilioRestException) as info:
                await client.calls.create_async(
                    to="+5511999994011", from_=FROM, url=stub.url + "/v"
                )
        finally:
            await http.close()
        assert info.value.status == 429 and info.value.code == 20429
        assert len(sb.calls) == 1


async def test_cps_queue_mode_keeps_calls_queued():
    config = SandboxConfig(speed=20.0, cps=5.0, cps_mode="queue")
    async with Sandbox(config) as sb, ServiceStub(sb.auth_token) as stub:
        client, http = make_client(sb)
        try:
            sids = [
                (
                    await client.calls.create_async(
                        to=f"+551199999402{i}", from_=FROM, url=stub.url + "/v"
                    )
                ).sid
                for i in range(3)
            ]
        finally:
            await http.close()
        for sid in sids:
            await sb.wait_for_call_end(sid)
        calls = [sb.calls[sid] for sid in sids]
        assert all(c.status == "completed" for c in calls)
        assert not calls[0].events_of("cps-queued")
        assert calls[1].events_of("cps-queued") and calls[2].events_of("cps-queued")
        starts = [c.status_history[1].at for c in calls]  # "initiated"
        assert [c.status_history[1].status for c in calls] == ["initiated"] * 3
        assert starts == sorted(starts)
