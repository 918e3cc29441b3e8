"""Users and agents as a supervisor manages them, and the audit log: ``/api/v1/users``,
``/api/v1/audit``.

An agent user IS an agent: creating one creates the agent (through the same
:func:`ivr.web.accounts.create_user` the CLI uses). A password reset and a
disable revoke the user's sessions at once; a disabled user cannot sign in
with a password or an API key, and a disabled agent is set offline and
never offered a call. A supervisor cannot disable themself, nor the last
supervisor who can still sign in: somebody must be able to undo it.

Every change is written to the audit log in its own transaction; a password
reset is logged without values, and no answer here carries a password hash,
an API key hash or a token.
"""

from __future__ import annotations

import asyncio
import secrets

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.keys import SESSIONS
from ivr.store import audit as audit_store
from ivr.store import auth_sessions
from ivr.store.agents import agent_for_user
from ivr.store.audit import AuditFilter, audit_fields, record_audit
from ivr.store.models import Agent, Presence, Role, User, utcnow
from ivr.store.users import enabled_supervisors, get_user, user_by_username, users_with_agents
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.web.accounts import UserExists, create_user
from ivr.web.api_common import (
    API_PREFIX,
    Endpoint,
    FieldError,
    path_int,
    read_body,
    read_query,
    reply,
    unprocessable,
    utc,
)
from ivr.web.api_user_schemas import (
    AgentPart,
    AuditOut,
    AuditPage,
    AuditQuery,
    PasswordReset,
    PasswordResetOut,
    UserAdminOut,
    UserCreate,
    UserCreated,
    UserList,
    UserUpdate,
)
from ivr.web.auth import current_user, json_error
from ivr.web.credentials import hash_password

_AGENT_FIELDS = ("display_name", "endpoint", "languages", "skills")


def one_time_password() -> str:
    """A generated password a supervisor reads out once: 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


def user_out(user: User, agent: Agent | None) -> UserAdminOut:
    return UserAdminOut(
        id=user.id,
        username=user.username,
        role=user.role,
        disabled=user.disabled_at is not None,
        disabled_at=user.disabled_at,
        created_at=user.created_at,
        agent=AgentPart.model_validate(agent) if agent is not None else None,
    )


async def _load(s: AsyncSession, user_id: int, *, lock: bool = False) -> User:
    user = await get_user(s, user_id, lock=lock)
    if user is None:
        raise json_error(404, f"no user {user_id}")
    return user


async def _answer(request: web.Request, user_id: int) -> web.Response:
    async with request.app[SESSIONS]() as s:
        user = await _load(s, user_id)
        return reply(user_out(user, await agent_for_user(s, user.id)))


async def list_users(request: web.Request) -> web.Response:
    """Every user with role and state; agents with their languages, skills and presence."""
    async with request.app[SESSIONS]() as s:
        rows = await users_with_agents(s)
        return reply(UserList(items=[user_out(u, a) for u, a in rows]))


async def post_user(request: web.Request) -> web.Response:
    """Create a supervisor or an agent; without a password one is generated and shown once."""
    body = await read_body(request, UserCreate)
    if body.role is Role.SUPERVISOR:
        extra = [f for f in ("display_name", "endpoint", "languages") if getattr(body, f)]
        extra += ["skills"] if body.skills else []
        if extra:
            raise unprocessable([FieldError(f, "only an agent has this") for f in extra])
    generated = one_time_password() if body.password is None else None
    try:
        api_key = await create_user(
            request.app[SESSIONS],
            body.username,
            body.role,
            body.password or generated,
            languages=[str(x) for x in body.languages] if body.languages else None,
            skills=list(body.skills),
            display_name=body.display_name,
            endpoint=body.endpoint,
            actor=current_user(request),
        )
    except UserExists as exc:
        raise unprocessable([FieldError("username", str(exc))]) from None
    except ValueError as exc:
        raise unprocessable([FieldError("password", str(exc))]) from None
    async with request.app[SESSIONS]() as s:
        user = await user_by_username(s, body.username)
        assert user is not None
        out = user_out(user, await agent_for_user(s, user.id))
    return reply(UserCreated(user=out, api_key=api_key, password=generated), 201)


async def update_user(request: web.Request) -> web.Response:
    """Change an agent's languages, skills, name shown or phone."""
    user_id = path_int(request, "id")
    body = await read_body(request, UserUpdate)
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    errors = [FieldError(k, "must not be null") for k, v in changes.items() if v is None]
    if errors:
        raise unprocessable(errors)
    async with request.app[SESSIONS]() as s, s.begin():
        user = await _load(s, user_id, lock=True)
        agent = await agent_for_user(s, user.id)
        if agent is None:
            raise unprocessable([FieldError(k, "this user is not an agent") for k in changes])
        before = audit_fields(agent, _AGENT_FIELDS)
        for key, value in changes.items():
            setattr(agent, key, [str(v) for v in value] if isinstance(value, list) else value)
        after = audit_fields(agent, _AGENT_FIELDS)
        await record_audit(
            s, current_user(request), AuditEntity.USER, user.id, AuditAction.UPDATE, before, after
        )
    return await _answer(request, user_id)


async def reset_password(request: web.Request) -> web.Response:
    """Set a new password (or generate a one-time one, shown once); their sessions end."""
    user_id = path_int(request, "id")
    body = await read_body(request, PasswordReset)
    generated = one_time_password() if body.password is None else None
    pw_hash = await asyncio.to_thread(hash_password, body.password or generated or "")
    async with request.app[SESSIONS]() as s, s.begin():
        user = await _load(s, user_id, lock=True)
        user.password_hash = pw_hash
        revoked = await auth_sessions.revoke_user_sessions(s, user.id, utcnow())
        await record_audit(
            s, current_user(request), AuditEntity.USER, user.id, AuditAction.PASSWORD_RESET
        )
    return reply(PasswordResetOut(password=generated, sessions_revoked=revoked))


async def _set_disabled(request: web.Request, disabled: bool) -> web.Response:
    user_id = path_int(request, "id")
    actor = current_user(request)
    now = utcnow()
    async with request.app[SESSIONS]() as s, s.begin():
        if disabled and user_id == actor.id:
            raise json_error(409, "you cannot disable yourself", field="id")
        supervisors = await enabled_supervisors(s, lock=disabled)
        user = await _load(s, user_id, lock=True)
        if (user.disabled_at is not None) == disabled:
            return await _answer_in(s, user)
        if disabled and user.role is Role.SUPERVISOR and list(supervisors) == [user.id]:
            raise json_error(
                409, "the last supervisor who can sign in cannot be disabled", field="id"
            )
        before = {"disabled": user.disabled_at is not None}
        user.disabled_at = now if disabled else None
        agent = await agent_for_user(s, user.id)
        if disabled:
            await auth_sessions.revoke_user_sessions(s, user.id, now)
            if agent is not None:  # out of the routing pool at once
                agent.presence, agent.presence_since, agent.wrapup_until = (
                    Presence.OFFLINE,
                    now,
                    None,
                )
        action = AuditAction.DISABLE if disabled else AuditAction.ENABLE
        await record_audit(
            s, actor, AuditEntity.USER, user.id, action, before, {"disabled": disabled}
        )
        return reply(user_out(user, agent))


async def _answer_in(s: AsyncSession, user: User) -> web.Response:
    return reply(user_out(user, await agent_for_user(s, user.id)))


async def disable_user(request: web.Request) -> web.Response:
    """Refuse the user's logins and keys from now on; their sessions end; an agent goes offline."""
    return await _set_disabled(request, True)


async def enable_user(request: web.Request) -> web.Response:
    """Let a disabled user sign in again (an agent comes back offline)."""
    return await _set_disabled(request, False)


async def list_audit(request: web.Request) -> web.Response:
    """The audit log, newest first, filtered by entity, id, user and time."""
    q = read_query(request, AuditQuery)
    f = AuditFilter(
        entity=q.entity,
        entity_id=q.entity_id,
        username=q.user,
        since=utc(q.from_),
        until=utc(q.to),
    )
    async with request.app[SESSIONS]() as s:
        rows, total = await audit_store.audit_page(s, f, limit=q.limit, offset=q.offset)
        items = [AuditOut.model_validate(r) for r in rows]
    return reply(AuditPage(items=items, total=total, limit=q.limit, offset=q.offset))


_U = f"{API_PREFIX}/users"
_ONE = f"{_U}/{{id}}"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", _U, list_users, "List users and agents", tag="users", response=UserList),
    Endpoint(
        "POST",
        _U,
        post_user,
        "Create a supervisor or an agent",
        tag="users",
        body=UserCreate,
        response=UserCreated,
        status=201,
        errors=(422,),
    ),
    Endpoint(
        "PATCH",
        _ONE,
        update_user,
        "Change an agent's languages, skills, name or phone",
        tag="users",
        body=UserUpdate,
        response=UserAdminOut,
        errors=(404, 422),
    ),
    Endpoint(
        "POST",
        f"{_ONE}/password",
        reset_password,
        "Reset a password (their sessions end)",
        tag="users",
        body=PasswordReset,
        response=PasswordResetOut,
        errors=(404, 422),
    ),
    Endpoint(
        "POST",
        f"{_ONE}/disable",
        disable_user,
        "Disable a user (sessions end, logins refused, agent offline)",
        tag="users",
        response=UserAdminOut,
        errors=(404, 409, 422),
    ),
    Endpoint(
        "POST",
        f"{_ONE}/enable",
        enable_user,
        "Enable a disabled user",
        tag="users",
        response=UserAdminOut,
        errors=(404, 422),
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/audit",
        list_audit,
        "The audit log: who changed what, when, before and after",
        tag="audit",
        query=AuditQuery,
        response=AuditPage,
        errors=(422,),
    ),
)
