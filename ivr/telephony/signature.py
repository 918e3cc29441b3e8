"""X-Twilio-Signature checks against the configured public URL.

Behind a TLS proxy the URL aiohttp sees is not the one Twilio signed, so the
signature is always computed over ``IVR_PUBLIC_URL`` + path + query. WebSocket
upgrades are signed over the ``wss://`` form of that URL with no parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from twilio.request_validator import RequestValidator


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

    def check_form(self, path_qs: str, params: Mapping[str, str], signature: str | None) -> bool:
        if not signature:
            return False
        url = public_url_for(self._base, path_qs)
        return bool(self._validator.validate(url, dict(params), signature))

    def check_websocket(self, path_qs: str, signature: str | None) -> bool:
        if not signature:
            return False
        url = websocket_url(public_url_for(self._base, path_qs))
        return bool(self._validator.validate(url, {}, signature))

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        """Compute a signature (used by tests, the sandbox and the benchmark)."""
        return str(self._validator.compute_signature(url, dict(params)))
