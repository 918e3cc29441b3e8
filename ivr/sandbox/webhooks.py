"""Signed HTTP requests from the sandbox carrier to the service.

Twilio signs every webhook with ``X-Twilio-Signature`` over the URL it was
given (with its query string) plus, for POST, the form parameters sorted by
name. The sandbox does the same with twilio-python's own
:class:`~twilio.request_validator.RequestValidator`, then sends the request to
where the service really listens (see :func:`rewrite_url`): the signature
still covers the public URL, exactly as behind a TLS proxy.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
from twilio.request_validator import RequestValidator

from ivr.sandbox.records import CallbackRecord

USER_AGENT = "TwilioProxy/1.1"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


_WS_OF = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
_HTTP_OF = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def rewrite_url(url: str, rewrites: Mapping[str, str], stream_base: str | None = None) -> str:
    """Where to send a request for the public ``url``.

    ``rewrites`` maps public origins to real ones; a ``ws(s)://`` URL matches
    the ``http(s)://`` origin of the same host and keeps a WebSocket scheme.
    ``stream_base`` (WebSocket URLs only) wins over ``rewrites``.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    is_ws = scheme in ("ws", "wss")
    if is_ws and stream_base:
        base = urlsplit(stream_base)
        return urlunsplit((_WS_OF.get(base.scheme, "ws"), base.netloc, parts.path, parts.query, ""))
    for public, real in rewrites.items():
        p_scheme, p_netloc = _origin(public)
        if p_netloc != parts.netloc.lower():
            continue
        if _HTTP_OF.get(p_scheme) != _HTTP_OF.get(scheme):
            continue
        target = urlsplit(real)
        new_scheme = _WS_OF[target.scheme] if is_ws else _HTTP_OF[target.scheme]
        prefix = target.path.rstrip("/")
        return urlunsplit((new_scheme, target.netloc, prefix + parts.path, parts.query, ""))
    return url


@dataclass
class SignedPoster:
    """Sends signed webhooks and records each one on the call."""

    session: aiohttp.ClientSession
    auth_token: str
    rewrites: Mapping[str, str]
    timeout_s: float

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        return str(RequestValidator(self.auth_token).compute_signature(url, dict(params)))

    async def send(
        self,
        kind: str,
        url: str,
        params: Mapping[str, str],
        method: str = "POST",
        records: list[CallbackRecord] | None = None,
    ) -> CallbackRecord:
        """Make one request; never raises for HTTP or network failures (they are recorded)."""
        method = (method or "POST").upper()
        params = {k: str(v) for k, v in params.items()}
        if method == "GET":
            sep = "&" if urlsplit(url).query else "?"
            signed_url = url + (sep + urlencode(params) if params else "")
            signature = self.sign(signed_url, {})
            body_params: dict[str, str] | None = None
        else:
            signed_url = url
            signature = self.sign(url, params)
            body_params = params
        record = CallbackRecord(kind=kind, url=url, method=method, params=params)
        if records is not None:
            records.append(record)
        headers = {
            "X-Twilio-Signature": signature,
            "User-Agent": USER_AGENT,
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        }
        target = rewrite_url(signed_url, self.rewrites)
        try:
            async with self.session.request(
                method,
                target,
                data=body_params,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                allow_redirects=False,
            ) as response:
                record.status = response.status
                record.body = await response.text()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            record.error = f"{type(exc).__name__}: {exc}"
        return record
