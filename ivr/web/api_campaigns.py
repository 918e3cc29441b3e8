"""Campaign endpoints: create, read, update caps and pacing, pause, windows, blocked dates.

Windows are checked beyond their shape: ranges on one weekday may not
overlap, and a range outside the country's default calling hours (see the
compliance reference) is refused unless the request says
``allow_outside_defaults`` — a supervisor may tighten the hours freely and
loosen them only on purpose. Anything that can make a parked debtor callable
again (resume, new windows, new caps) wakes the campaign's debtors so the
planner looks at them at once; pausing cancels the attempts claimed but not
yet placed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.dialog.disclosure import revealing_words
from ivr.keys import SESSIONS, SETTINGS
from ivr.store import campaigns as campaign_store
from ivr.store.audit import json_safe, record_audit
from ivr.store.models import Campaign, utcnow
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.web.api_campaign_rules import caps_errors, hhmm, window_errors
from ivr.web.api_campaign_schemas import (
    MIDNIGHT,
    BlockedDatesIn,
    CampaignCreate,
    CampaignList,
    CampaignListItem,
    CampaignOut,
    CampaignUpdate,
    CampaignWarning,
    WindowIn,
    WindowOut,
    WindowsIn,
)
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    path_int,
    read_body,
    reply,
    unprocessable,
)
from ivr.web.auth import current_user, json_error
from ivr.web.wallboard_live import wallboard_changed
from scheduler.explain import wake_debtors
from scheduler.windows import Window, default_windows, parse_blocked


def campaign_out(c: Campaign) -> CampaignOut:
    wins = sorted(c.windows, key=lambda w: (w.weekday, w.start))
    return CampaignOut(
        id=c.id,
        name=c.name,
        locale=c.locale,
        country=c.country,
        active=c.active,
        daily_cap=c.daily_cap,
        weekly_cap=c.weekly_cap,
        min_gap_minutes=c.min_gap_minutes,
        quiet_days_after_rpc=c.quiet_days_after_rpc,
        paid_pause_business_days=c.paid_pause_business_days,
        max_concurrent_calls=c.max_concurrent_calls,
        max_promise_days=c.max_promise_days,
        max_instalments=c.max_instalments,
        max_plan_days=c.max_plan_days,
        followup_after_broken_days=c.followup_after_broken_days,
        promise_on_closed_day=c.promise_on_closed_day,
        retry_delays_minutes=list(c.retry_delays_minutes or []),
        blocked_dates=sorted(parse_blocked(c.blocked_dates or [])),
        company_name=c.company_name,
        callback_number=c.callback_number,
        verification_policy=c.verification_policy,
        inbound_verification_policy=c.inbound_verification_policy,
        record_calls=c.record_calls,
        inbound_suppresses_today=c.inbound_suppresses_today,
        sms_daily_cap=c.sms_daily_cap,
        reminder_days_before=c.reminder_days_before,
        windows=[
            WindowOut(weekday=w.weekday, start=hhmm(w.start), end=hhmm(w.end, end=True))
            for w in wins
        ],
        created_at=c.created_at,
        warnings=campaign_warnings(c),
    )


def campaign_warnings(c: Campaign) -> list[CampaignWarning]:
    """What a supervisor should look at again; never a reason to refuse."""
    words = revealing_words(c.company_name)
    if not words:
        return []
    quoted = ", ".join(repr(w) for w in words)
    return [
        CampaignWarning(
            field="company_name",
            message=(
                f"the greeting speaks the company name before anyone is verified, and {quoted} "
                "tells whoever answers that the call is about a debt"
            ),
        )
    ]


_NOT_AUDITED = frozenset({"id", "created_at", "windows", "warnings"})


def audited(c: Campaign) -> dict[str, object]:
    """The campaign's settings as the audit log compares them (windows apart)."""
    out = campaign_out(c).model_dump(mode="json", exclude=set(_NOT_AUDITED))
    return {k: json_safe(v) for k, v in out.items()}


def audited_windows(c: Campaign) -> dict[str, object]:
    return {"windows": campaign_out(c).model_dump(mode="json")["windows"]}


async def _audit(
    s: AsyncSession,
    request: web.Request,
    entity: AuditEntity,
    campaign_id: int,
    action: AuditAction,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
) -> None:
    await record_audit(s, current_user(request), entity, campaign_id, action, before, after)


def _dates(values: Sequence[dt.date]) -> list[str]:
    return [d.isoformat() for d in sorted(set(values))]


async def _load(s: AsyncSession, campaign_id: int, *, lock: bool = False) -> Campaign:
    campaign = await campaign_store.load_campaign(s, campaign_id, lock=lock)
    if campaign is None:
        raise json_error(404, f"no campaign {campaign_id}")
    return campaign


async def create_campaign(request: web.Request) -> web.Response:
    """Create a campaign; without windows it gets its country's default calling hours."""
    body = await read_body(request, CampaignCreate)
    errors = caps_errors(body.daily_cap, body.weekly_cap)
    if body.windows is not None:
        errors += window_errors(body.windows, body.country, body.allow_outside_defaults)
    if errors:
        raise unprocessable(errors)
    windows: Sequence[WindowIn | Window] = (
        body.windows if body.windows is not None else default_windows(body.country)
    )
    fields = body.model_dump(exclude={"windows", "allow_outside_defaults", "blocked_dates"})
    fields["blocked_dates"] = _dates(body.blocked_dates)
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            campaign_id = await campaign_store.add_campaign(s, fields, windows)
            created = await _load(s, campaign_id)
            await _audit(
                s,
                request,
                AuditEntity.CAMPAIGN,
                campaign_id,
                AuditAction.CREATE,
                None,
                audited(created) | audited_windows(created),
            )
    except IntegrityError:
        raise json_error(409, f"a campaign named {body.name!r} exists") from None
    async with request.app[SESSIONS]() as s:
        return reply(campaign_out(await _load(s, campaign_id)), 201)


async def list_campaigns(request: web.Request) -> web.Response:
    """Every campaign, newest first, with the calls it placed today (UTC)."""
    midnight = dt.datetime.combine(utcnow().date(), MIDNIGHT, tzinfo=dt.UTC)
    async with request.app[SESSIONS]() as s:
        rows = await campaign_store.list_campaigns(s)
        today = await campaign_store.attempts_since(s, midnight)
        items = [
            CampaignListItem(**dict(campaign_out(c)), attempts_today=today.get(c.id, 0))
            for c in rows
        ]
    cps = request.app[SETTINGS].account_cps
    return reply(CampaignList(items=items, account_cps=cps))


async def get_campaign(request: web.Request) -> web.Response:
    """One campaign with its windows."""
    campaign_id = path_int(request, "id")
    async with request.app[SESSIONS]() as s:
        return reply(campaign_out(await _load(s, campaign_id)))


async def update_campaign(request: web.Request) -> web.Response:
    """Change caps, pacing, locale, names; only the fields sent change."""
    campaign_id = path_int(request, "id")
    body = await read_body(request, CampaignUpdate)
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    errors = [FieldError(k, "must not be null") for k, v in changes.items() if v is None]
    if errors:
        raise unprocessable(errors)
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            campaign = await _load(s, campaign_id, lock=True)
            before = audited(campaign)
            daily = changes.get("daily_cap", campaign.daily_cap)
            weekly = changes.get("weekly_cap", campaign.weekly_cap)
            errors = caps_errors(daily, weekly)
            if errors:
                raise unprocessable(errors)
            for key, value in changes.items():
                setattr(campaign, key, value)
            await s.flush()
            await _audit(
                s,
                request,
                AuditEntity.CAMPAIGN,
                campaign_id,
                AuditAction.UPDATE,
                before,
                audited(campaign),
            )
            await wake_debtors(s, campaign_id=campaign_id)
    except IntegrityError:
        raise json_error(409, f"a campaign named {changes.get('name')!r} exists") from None
    async with request.app[SESSIONS]() as s:
        return reply(campaign_out(await _load(s, campaign_id)))


async def _set_active(request: web.Request, active: bool) -> web.Response:
    campaign_id = path_int(request, "id")
    async with request.app[SESSIONS]() as s, s.begin():
        campaign = await _load(s, campaign_id, lock=True)
        before = {"active": campaign.active}
        campaign.active = active
        action = AuditAction.RESUME if active else AuditAction.PAUSE
        await _audit(
            s, request, AuditEntity.CAMPAIGN, campaign_id, action, before, {"active": active}
        )
        if active:
            await wake_debtors(s, campaign_id=campaign_id)
        else:
            await campaign_store.cancel_unplaced_attempts(s, campaign_id)
    wallboard_changed(request.app)  # the dialer's state changed
    async with request.app[SESSIONS]() as s:
        return reply(campaign_out(await _load(s, campaign_id)))


async def pause_campaign(request: web.Request) -> web.Response:
    """Stop placing calls for this campaign (calls already ringing finish)."""
    return await _set_active(request, False)


async def resume_campaign(request: web.Request) -> web.Response:
    """Start placing calls again, within windows and caps."""
    return await _set_active(request, True)


async def put_windows(request: web.Request) -> web.Response:
    """Replace every call window of the campaign."""
    campaign_id = path_int(request, "id")
    body = await read_body(request, WindowsIn)
    async with request.app[SESSIONS]() as s, s.begin():
        campaign = await _load(s, campaign_id, lock=True)
        errors = window_errors(body.windows, campaign.country, body.allow_outside_defaults)
        if errors:
            raise unprocessable(errors)
        before = audited_windows(campaign)
        await campaign_store.replace_windows(s, campaign, body.windows)
        await _audit(
            s,
            request,
            AuditEntity.CAMPAIGN_WINDOW,
            campaign_id,
            AuditAction.REPLACE,
            before,
            audited_windows(campaign),
        )
        await wake_debtors(s, campaign_id=campaign_id)
    async with request.app[SESSIONS]() as s:
        return reply(campaign_out(await _load(s, campaign_id)))


async def put_blocked_dates(request: web.Request) -> web.Response:
    """Replace the dates on which this campaign never calls."""
    campaign_id = path_int(request, "id")
    body = await read_body(request, BlockedDatesIn)
    async with request.app[SESSIONS]() as s, s.begin():
        campaign = await _load(s, campaign_id, lock=True)
        before = {"blocked_dates": sorted(parse_blocked(campaign.blocked_dates or []))}
        campaign.blocked_dates = _dates(body.dates)
        await s.flush()
        after = {"blocked_dates": sorted(parse_blocked(campaign.blocked_dates or []))}
        await _audit(
            s, request, AuditEntity.CAMPAIGN, campaign_id, AuditAction.UPDATE, before, after
        )
        await wake_debtors(s, campaign_id=campaign_id)
    async with request.app[SESSIONS]() as s:
        return reply(campaign_out(await _load(s, campaign_id)))


_C = f"{API_PREFIX}/campaigns"
_ONE = f"{_C}/{{id}}"
_E = (404, 422)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        _C,
        create_campaign,
        "Create a campaign",
        tag="campaigns",
        body=CampaignCreate,
        response=CampaignOut,
        status=201,
        errors=(409, 422),
    ),
    Endpoint("GET", _C, list_campaigns, "List campaigns", tag="campaigns", response=CampaignList),
    Endpoint(
        "GET",
        _ONE,
        get_campaign,
        "Get a campaign",
        tag="campaigns",
        response=CampaignOut,
        errors=_E,
    ),
    Endpoint(
        "PATCH",
        _ONE,
        update_campaign,
        "Update caps, pacing, locale and names",
        tag="campaigns",
        body=CampaignUpdate,
        response=CampaignOut,
        errors=(404, 409, 422),
    ),
    Endpoint(
        "POST",
        f"{_ONE}/pause",
        pause_campaign,
        "Pause a campaign",
        tag="campaigns",
        response=CampaignOut,
        errors=_E,
    ),
    Endpoint(
        "POST",
        f"{_ONE}/resume",
        resume_campaign,
        "Resume a campaign",
        tag="campaigns",
        response=CampaignOut,
        errors=_E,
    ),
    Endpoint(
        "PUT",
        f"{_ONE}/windows",
        put_windows,
        "Replace the call windows",
        tag="campaigns",
        body=WindowsIn,
        response=CampaignOut,
        errors=_E,
    ),
    Endpoint(
        "PUT",
        f"{_ONE}/blocked-dates",
        put_blocked_dates,
        "Replace the blocked dates",
        tag="campaigns",
        body=BlockedDatesIn,
        response=CampaignOut,
        errors=_E,
    ),
)
