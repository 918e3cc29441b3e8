"""Pure parts of the API: tokens, password hashes, error paths, window rules."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ivr.store.models import Role, User
from ivr.web.api_campaign_rules import window_errors
from ivr.web.api_campaign_schemas import CampaignCreate, WindowIn
from ivr.web.api_common import field_path, from_pydantic
from ivr.web.api_debtor_schemas import ExplainQuery
from ivr.web.api_schemas import PaymentIn
from ivr.web.auth import allowed
from ivr.web.credentials import (
    hash_api_key,
    hash_password,
    make_session_token,
    new_api_key,
    read_session_token,
    verify_password,
)

SECRET = b"k" * 32


def test_session_token_round_trip_and_tamper() -> None:
    token = make_session_token(SECRET, 42)
    assert read_session_token(SECRET, token) == 42
    assert read_session_token(b"other" * 8, token) is None
    uid, expires, nonce, sig = token.split(".")
    assert read_session_token(SECRET, f"43.{expires}.{nonce}.{sig}") is None
    assert read_session_token(SECRET, f"{uid}.{int(expires) + 999}.{nonce}.{sig}") is None
    assert read_session_token(SECRET, token[:-2]) is None
    for junk in ("", ".", "a.b.c.d", "1.2.3", "1.x.y.z"):
        assert read_session_token(SECRET, junk) is None


def test_session_token_expires() -> None:
    token = make_session_token(SECRET, 7, ttl_s=60)
    assert read_session_token(SECRET, token, now=time.time() + 30) == 7
    assert read_session_token(SECRET, token, now=time.time() + 61) is None


def test_password_hash_is_salted_and_verifies() -> None:
    a, b = hash_password("pa55word!"), hash_password("pa55word!")
    assert a != b and a.startswith("scrypt$")
    assert verify_password("pa55word!", a)
    assert not verify_password("pa55word?", a)
    assert not verify_password("pa55word!", None)
    assert not verify_password("pa55word!", "md5$abc")


def test_api_keys_are_random_and_hashed() -> None:
    keys = {new_api_key() for _ in range(50)}
    assert len(keys) == 50 and all(len(k) >= 43 for k in keys)
    k = next(iter(keys))
    assert hash_api_key(k) == hash_api_key(k) and len(hash_api_key(k)) == 64
    assert hash_api_key(k) != k


def test_supervisors_pass_every_role_check() -> None:
    sup, agent = User(username="s", role=Role.SUPERVISOR), User(username="a", role=Role.AGENT)
    assert allowed(sup, (Role.AGENT,)) and allowed(sup, (Role.SUPERVISOR,))
    assert allowed(agent, (Role.AGENT,)) and not allowed(agent, (Role.SUPERVISOR,))


def test_field_path() -> None:
    assert field_path(("windows", 0, "end")) == "windows[0].end"
    assert field_path(("dates", 3)) == "dates[3]"
    assert field_path(()) == ""


def test_pydantic_errors_become_field_reasons() -> None:
    with pytest.raises(ValidationError) as info:
        CampaignCreate.model_validate(
            {"name": "x", "windows": [{"weekday": 1, "start": "10:00", "end": "09:00"}]}
        )
    (err,) = from_pydantic(info.value)
    assert err.field == "windows[0].end"
    assert err.reason.startswith("end must be after start")


def _w(day: int, start: str, end: str) -> WindowIn:
    return WindowIn.model_validate({"weekday": day, "start": start, "end": end})


def test_midnight_end_and_24h_spelling() -> None:
    assert _w(1, "20:00", "24:00").end == dt.time(0)
    assert _w(1, "20:00", "00:00").end == dt.time(0)
    assert _w(1, "9:00", "9:30").start == dt.time(9)
    with pytest.raises(ValidationError):
        _w(1, "20:00", "19:59")
    with pytest.raises(ValidationError):
        _w(1, "08:00+03:00", "10:00")


def test_window_errors_overlap_and_touching() -> None:
    touching = [_w(0, "08:00", "12:00"), _w(0, "12:00", "14:00"), _w(1, "09:00", "11:00")]
    assert window_errors(touching, "BR", False) == []
    overlapping = [_w(0, "08:00", "12:00"), _w(1, "08:00", "12:00"), _w(0, "11:59", "13:00")]
    (err,) = window_errors(overlapping, "BR", False)
    assert err.field == "windows[2]" and "overlaps windows[0] on Monday" in err.reason


def test_window_errors_follow_the_country_defaults() -> None:
    us_sunday = [_w(6, "08:00", "21:00")]
    assert window_errors(us_sunday, "US", False) == []
    (err,) = window_errors(us_sunday, "BR", False)
    assert "no default calling hours on Sunday" in err.reason
    saturday_late = [_w(5, "08:00", "15:00")]
    (err,) = window_errors(saturday_late, "BR", False)
    assert "08:00-14:00" in err.reason
    assert window_errors(saturday_late, "BR", True) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 47), st.integers(1, 48)),
        min_size=1,
        max_size=8,
    )
)
def test_overlap_check_agrees_with_a_minute_grid(spans: list[tuple[int, int, int]]) -> None:
    """No error exactly when no two ranges on a weekday share a half-hour slot."""
    wins = []
    for day, a, b in spans:
        lo, hi = min(a, b), max(a, b)
        if lo == hi:
            hi = lo + 1
        start = dt.time(lo // 2, 30 * (lo % 2))
        end = dt.time(0) if hi == 48 else dt.time(hi // 2, 30 * (hi % 2))
        wins.append((day, lo, hi, WindowIn(weekday=day, start=start, end=end)))
    seen: set[tuple[int, int]] = set()
    clash = False
    for day, lo, hi, _ in wins:
        slots = {(day, s) for s in range(lo, hi)}
        clash = clash or bool(slots & seen)
        seen |= slots
    errors = window_errors([w for *_, w in wins], "US", True)
    assert bool(errors) == clash


def test_payment_amount_and_explain_query() -> None:
    assert (
        PaymentIn.model_validate(
            {"external_ref": "A", "amount": 12.5, "paid_on": "2025-01-02", "payment_ref": "r"}
        ).amount
        * 100
        == 1250
    )
    q = ExplainQuery.model_validate({"at": "2025-06-11T10:00:00 03:00"})
    assert q.at is not None and q.at.utcoffset() == dt.timedelta(hours=3)
    with pytest.raises(ValidationError):
        ExplainQuery.model_validate({"tz": "Nowhere/City"})


def test_session_secret_from_settings_or_per_process() -> None:
    from aiohttp import web

    from ivr.config import Settings
    from ivr.keys import SETTINGS
    from ivr.web.auth import session_secret

    configured, other, unset = web.Application(), web.Application(), web.Application()
    configured[SETTINGS] = Settings(secret_key="one")
    other[SETTINGS] = Settings(secret_key="two")
    unset[SETTINGS] = Settings(secret_key=None)
    assert session_secret(configured) == session_secret(configured)
    assert session_secret(configured) != session_secret(other)
    ephemeral = session_secret(unset)
    assert len(ephemeral) == 32 and ephemeral == session_secret(unset)
    token = make_session_token(session_secret(configured), 5)
    assert read_session_token(session_secret(other), token) is None
