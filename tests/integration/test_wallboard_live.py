"""The live wallboard: a status callback reaches an open board, on one replica and
across two (PostgreSQL LISTEN/NOTIFY); a logout ends the stream; a viewer's
streams are bounded; a burst of changes is one event.

The latency from the callback to the new snapshot is printed (``-s`` shows
it): it is a figure for the report, not an assertion (performance belongs in
bench/); the tests assert that the new snapshot arrives.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from ivr.agents.hub import WALLBOARD, AgentEvent, AgentHub
from ivr.sandbox.app import Sandbox
from ivr.store.migrate import upgrade
from ivr.store.models import CallAttempt, Role
from ivr.web import wallboard_live
from ivr.web.accounts import create_user
from ivr.web.wallboard_live import WALLBOARD as FEED
from tests.support.agents import Running, agents_service, seed_call
from tests.support.wallboard import WallboardStream, console_cookie, post_status

PASSWORD = "senha-da-sofia-1"


async def _supervisor(svc: Running) -> str:
    await create_user(svc.sessions, "sofia", Role.SUPERVISOR, PASSWORD)
    return await console_cookie(svc.url, "sofia", PASSWORD)


async def _live_call(svc: Running, ref: str, phone: str, sid: str) -> int:
    call = await seed_call(svc.sessions, ref=ref, phone=phone)
    async with svc.sessions() as s, s.begin():
        attempt = await s.get(CallAttempt, call.attempt_id)
        assert attempt is not None
        attempt.call_sid = sid
    return call.attempt_id


def _calls(data: dict[str, object]) -> int:
    calls = data["calls"]
    assert isinstance(calls, dict)
    return int(calls["total"])


async def _sqlite(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    await asyncio.to_thread(upgrade, url)
    return url


async def test_a_status_callback_reaches_an_open_wallboard(tmp_path: Path) -> None:
    """In process on SQLite (PostgreSQL's path is the two-replica test below)."""
    async with (
        Sandbox() as sb,
        agents_service(await _sqlite(tmp_path), sb, tmp_path / "tts") as svc,
    ):
        cookie = await _supervisor(svc)
        sid = "CA" + "1" * 32
        attempt_id = await _live_call(svc, "WB-1", "+5511987650101", sid)
        async with WallboardStream(svc.url, cookie) as board:
            assert board.status == 200
            _, first = await board.wait_for(lambda n, d: n == "snapshot")
            assert _calls(first) == 1 and first["calls"]["calls"][0]["debtor_ref"] == "WB-1"
            seen = len(board.events)
            sent = time.monotonic()
            status = await post_status(
                svc.url, svc.settings.twilio_auth_token or "", attempt_id, sid, "completed", 5
            )
            assert status == 204
            i, _ = await board.wait_for(lambda n, d: n == "snapshot" and _calls(d) == 0)
            assert i >= seen
            print(f"\nstatus callback -> wallboard snapshot: {board.arrival[i] - sent:.3f} s")


async def test_logout_ends_the_stream_and_streams_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wallboard_live, "RECHECK_S", 0.2)
    monkeypatch.setattr(wallboard_live, "POLL_S", 0.1)
    async with (
        Sandbox() as sb,
        agents_service(await _sqlite(tmp_path), sb, tmp_path / "tts") as svc,
    ):
        cookie = await _supervisor(svc)
        other = await console_cookie(svc.url, "sofia", PASSWORD)
        boards = [
            WallboardStream(svc.url, other) for _ in range(wallboard_live.MAX_STREAMS_PER_USER)
        ]
        for b in boards:
            await b.__aenter__()
        try:
            assert [b.status for b in boards] == [200] * len(boards)
            async with WallboardStream(svc.url, other) as extra:
                assert extra.status == 429
        finally:
            for b in boards:
                await b.__aexit__(None, None, None)
        async with asyncio.timeout(5):  # the server notices the closed streams
            while svc.app[FEED].viewers():  # noqa: ASYNC110 (no event to wait on)
                await asyncio.sleep(0.05)

        async with WallboardStream(svc.url, cookie) as board:
            await board.wait_for(lambda n, d: n == "snapshot")
            async with (
                aiohttp.ClientSession(headers={"Cookie": cookie}) as http,
                http.post(svc.url + "/console/logout") as resp,
            ):
                assert resp.status == 200
            _, end = await board.wait_for(lambda n, d: n == "end")
            assert end == {"reason": "signed_out"}
            await asyncio.wait_for(board.closed.wait(), 5)
        async with WallboardStream(svc.url, cookie) as again:
            assert again.status == 401


async def test_a_burst_of_changes_is_one_event() -> None:
    hub = AgentHub(engine=None, database_url="sqlite+aiosqlite://")  # type: ignore[arg-type]
    await hub.start()
    heard: list[AgentEvent] = []
    hub.watch(heard.append)
    for _ in range(50):
        hub.changed()
    await asyncio.sleep(0.05)
    assert [e.kind for e in heard] == [WALLBOARD]
    hub.changed()  # within the quiet interval: sent once it has passed
    await asyncio.sleep(0.05)
    assert len(heard) == 1
    await asyncio.sleep(0.3)
    assert len(heard) == 2
    await hub.stop()


@pytest.mark.postgres
async def test_a_board_on_another_replica_hears_the_callback(pg_url: str, tmp_path: Path) -> None:
    async with (
        Sandbox() as sb,
        agents_service(pg_url, sb, tmp_path / "tts") as replica_a,
        agents_service(pg_url, sb, tmp_path / "tts", route_carrier=False) as replica_b,
    ):
        cookie = await _supervisor(replica_a)
        sid = "CA" + "2" * 32
        attempt_id = await _live_call(replica_a, "WB-2", "+5511987650102", sid)
        async with WallboardStream(replica_b.url, cookie) as board:
            _, first = await board.wait_for(lambda n, d: n == "snapshot")
            assert _calls(first) == 1
            assert replica_b.app[FEED].viewers() == 1 and replica_a.app[FEED].viewers() == 0
            sent = time.monotonic()
            token = replica_a.settings.twilio_auth_token or ""
            assert await post_status(replica_a.url, token, attempt_id, sid, "completed", 5) == 204
            i, _ = await board.wait_for(lambda n, d: n == "snapshot" and _calls(d) == 0)
            print(f"\ncallback on A -> snapshot on B: {board.arrival[i] - sent:.3f} s")
