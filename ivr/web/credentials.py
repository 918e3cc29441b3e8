"""Secrets and their hashes: API keys, passwords, signed session tokens. No I/O.

Kept apart from :mod:`ivr.web.auth` (which decides who a request is) because
these are pure functions over bytes that the CLI, the login throttle and the
tests use without an app or a database.

* API keys are 32 random bytes (URL-safe text) shown once at creation; the
  database keeps only their SHA-256, so a leaked table does not leak keys.
* Passwords are hashed with scrypt (per-user salt, constant-time compare).
* A session token is ``<user_id>.<expires>.<nonce>.<hmac>``: signed, not
  encrypted (it holds no secret); the database keeps its hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time

API_KEY_BYTES = 32
SESSION_TTL_S = 12 * 3600  # one working day and a bit: agents log in per shift
MIN_PASSWORD_LEN = 8
_DIGITS = re.compile(r"[0-9]{1,12}")

# scrypt cost: ~50 ms and 16 MiB per check on this class of machine; stored in
# the hash so it can be raised later without invalidating old passwords.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1


# --- API keys ----------------------------------------------------------------


def new_api_key() -> str:
    """A fresh API key (shown once; store only :func:`hash_api_key` of it)."""
    return secrets.token_urlsafe(API_KEY_BYTES)


def hash_api_key(key: str) -> str:
    """SHA-256 hex: a fast hash is right here because the key is 256 random bits."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# --- passwords ---------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``; blocking (~50 ms): call it off the event loop."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; a missing or malformed hash is checked against a dummy
    so an unknown user takes as long as a wrong password. Blocking."""
    try:
        algo, n, r, p, salt_s, digest_s = (stored or _DUMMY_HASH).split("$")
        if algo != "scrypt":
            raise ValueError(algo)
        salt, want = _unb64(salt_s), _unb64(digest_s)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want) and stored is not None


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


# --- session tokens ----------------------------------------------------------


def make_session_token(secret: bytes, user_id: int, *, ttl_s: int = SESSION_TTL_S) -> str:
    """``<user_id>.<expires>.<nonce>.<hmac>``: signed, not encrypted (it holds no secret)."""
    expires = int(time.time()) + ttl_s
    body = f"{user_id}.{expires}.{secrets.token_urlsafe(8)}"
    sig = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(sig)}"


def read_session_token(secret: bytes, token: str, *, now: float | None = None) -> int | None:
    """The user id in a valid, unexpired token; None for anything else."""
    body, _, sig = token.rpartition(".")
    parts = body.split(".")
    if len(parts) != 3 or not all(_DIGITS.fullmatch(p) for p in parts[:2]):
        return None
    want = hmac.new(secret, body.encode("ascii", "replace"), hashlib.sha256).digest()
    try:
        got = _unb64(sig)
    except (ValueError, TypeError):
        return None
    if not hmac.compare_digest(got, want):
        return None
    if int(parts[1]) < (time.time() if now is None else now):
        return None
    return int(parts[0])


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
