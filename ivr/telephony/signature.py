"""X-Twilio-Signature checks against the configured public URL: the one check
every Twilio-facing route uses (``/twilio/*`` and the agent/queue callbacks).

Behind a TLS proxy the URL aiohttp sees is not the one Twilio signed, so the
signature is always computed over ``IVR_PUBLIC_URL`` + path + query. WebSocket
upgrades are signed over the ``wss://`` form of that URL with no parameters.

The signature is checked over *every* value of every field, exactly as
twilio-python's validator sorts and concatenates a repeated key, and a field
that arrives more than once is refused outright: Twilio never repeats one,
and a handler reading the first value while the check read the last is how a
captured callback was turned into a forged ``completed``.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import structlog
from aiohttp import web
from multidict import MultiDict, MultiMapping
from twilio.request_validator import RequestValidator

from ivr.telephony.webhook_form import TwilioForm, bad_field

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"

Params = MultiMapping[str] | dict[str, str]


def public_url_for(public_base: str, path_qs: str) -> str:
    """The URL Twilio used for a request whose path and query are ``path_qs``."""
    return public_base.rstrip("/") + path_qs


def websocket_url(http_url: str) -> str:
    """``https://h/p`` -> ``wss://h/p`` (and http -> ws), as Twilio signs streams."""
    parts = urlsplit(http_url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


class SignatureChecker:
    """Validates Twilio's HMAC-SHA1 signature with twilio-python's validator."""

    def __init__(self, auth_token: str, public_base: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._base = public_base.rstrip("/")

    def check_form(self, path_qs: str, params: Params, signature: str | None) -> bool:
        """True when ``signature`` covers the URL and every value of ``params``.

        A multidict goes to the validator as is: it reads repeated keys with
        ``getall``, as Twilio computes them.
        """
        if not signature:
            return False
        url = public_url_for(self._base, path_qs)
        return bool(self._validator.validate(url, params, signature))

    def check_websocket(self, path_qs: str, signature: str | None) -> bool:
        if not signature:
            return False
        url = websocket_url(public_url_for(self._base, path_qs))
        return bool(self._validator.validate(url, {}, signature))

    def sign(self, url: str, params: Params) -> str:
        """Compute a signature (used by tests, the sandbox and the benchmark)."""
        return str(self._validator.compute_signature(url, params))


def _single_values(pairs: MultiMapping[str], where: str) -> dict[str, str]:
    """One value per key, or 400 naming the first key that came twice."""
    out: dict[str, str] = {}
    for key, value in pairs.items():
        if key in out:
            raise bad_field(key, f"appears more than once in the {where}")
        out[key] = value
    return out


def _refuse(request: web.Request, reason: str) -> web.HTTPForbidden:
    log.warning("twilio.bad_signature", path=request.path, reason=reason)
    return web.HTTPForbidden(text="invalid X-Twilio-Signature")


async def signed_form(request: web.Request, checker: SignatureChecker) -> TwilioForm:
    """The request's form and query, once the signature covers all of it.

    403 without a signature; 400 naming a field sent twice (in the body or the
    query) or a non-text part; 403 when the signature does not cover every
    value that arrived.
    """
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise _refuse(request, "missing")
    form = await request.post()
    params: MultiDict[str] = MultiDict()
    for key, value in form.items():
        if not isinstance(value, str):
            raise bad_field(key, "must be a form field, not a file")
        params.add(key, value)
    fields = _single_values(params, "form")
    query = _single_values(request.rel_url.query, "query string")
    if not checker.check_form(request.rel_url.raw_path_qs, params, signature):
        raise _refuse(request, "mismatch")
    return TwilioForm(fields, query)


def verify_upgrade(request: web.Request, checker: SignatureChecker) -> None:
    """403 unless the WebSocket upgrade is signed over its public ``wss://`` URL.

    Twilio signs only the URL (the stream takes no query string), so this
    proves the carrier opened the socket, not which call it is: the
    per-call token in ``start`` does that (see :mod:`ivr.telephony.stream_token`).
    """
    if not checker.check_websocket(
        request.rel_url.raw_path_qs, request.headers.get(SIGNATURE_HEADER)
    ):
        raise _refuse(request, "upgrade")
