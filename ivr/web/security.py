"""What every response and every browser request gets, in one middleware.

* Pages may not be framed, sniffed or made to load foreign scripts:
  ``Content-Security-Policy`` (with ``frame-ancestors 'none'``),
  ``X-Content-Type-Options: nosniff``, ``X-Frame-Options``, ``Referrer-Policy``.
* A request that changes state, or opens a browser WebSocket, from another site is
  refused (403) before any handler runs: its ``Origin`` must be this
  service's (the host it was sent to, or ``IVR_PUBLIC_URL``), and
  ``Sec-Fetch-Site`` must not say ``cross-site``/``same-site``. Programs (API
  keys) and the carrier send neither header and are not affected; browsers
  always send ``Origin`` on a cross-site POST and on every WebSocket, so a
  forged login form or a foreign page cannot use an agent's cookie.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from ivr.keys import SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
CARRIER_PREFIX = "/twilio/"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_INSTALLED = web.AppKey("security_installed", bool)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(request: web.Request) -> set[str]:
    """The origins this service answers as: the host asked for, and the public URL."""
    origins = {f"{scheme}://{request.host}".lower() for scheme in ("http", "https")}
    settings = request.app.get(SETTINGS)
    public = getattr(settings, "public_url", None) if settings is not None else None
    if public:
        origins.add(_origin_of(public))
    return origins


def origin_allowed(request: web.Request) -> bool:
    """No ``Origin`` (not a browser), or this service's own."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin.strip().rstrip("/").lower() in own_origins(request)


def cross_site(request: web.Request) -> bool:
    """Whether a browser says this request comes from another site."""
    if request.headers.get("Sec-Fetch-Site", "").lower() in ("cross-site", "same-site"):
        return True
    return not origin_allowed(request)


def _is_websocket(request: web.Request) -> bool:
    """A browser-facing WebSocket upgrade. The carrier's media socket is not one:
    it carries no cookie, and its own signature and per-call token guard it."""
    if request.path.startswith(CARRIER_PREFIX):
        return False
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _forbidden() -> web.HTTPForbidden:
    return web.HTTPForbidden(
        text=json.dumps({"error": "cross-site request refused"}),
        content_type="application/json",
        headers=HEADERS,
    )


@web.middleware
async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (request.method not in _SAFE_METHODS or _is_websocket(request)) and cross_site(request):
        raise _forbidden()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        for name, value in HEADERS.items():
            exc.headers.setdefault(name, value)
        raise
    if not response.prepared:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def install_security(app: web.Application) -> None:
    """Add the middleware once, whoever calls first (``setup_api``, ``create_app``)."""
    if app.get(_INSTALLED):
        return
    app[_INSTALLED] = True
    app.middlewares.append(security_middleware)
