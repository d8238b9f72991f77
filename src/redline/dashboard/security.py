"""The dashboard's guard rails: who may read it, what it may do, and what it never shows.

- **Who.** Bound to a loopback address without a token, only requests whose ``Host`` is
  that loopback address are served (a web page elsewhere cannot reach the app through DNS
  rebinding). With a token, every request carries it: ``Authorization: Bearer TOKEN``, or
  the cookie set when ``?token=TOKEN`` is opened once (the address bar is then cleaned).
- **What.** Read-only: GET and HEAD, and POST only to the verify form, which reads.
- **Never shown.** Credentials in any text (API keys, tokens, private keys, passwords in
  URLs) are replaced with placeholders, and config values under secret-looking names are
  hidden, before anything is rendered.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

COOKIE = "redline_dashboard"
HIDDEN = "[hidden]"
_SECRET_NAME = re.compile(
    r"(^|[_\-.])(api[_-]?key|apikey|token|secret|passw(or)?d|passwd|authori[sz]ation|auth"
    r"|credentials?|private[_-]?key|cookie)$",
    re.IGNORECASE,
)
"""Config names whose values are never shown: ``api_key``, ``access_token``, ``password``;
not ``max_tokens``."""
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^\s:/@]*):[^\s@/]+@",
                           re.IGNORECASE)
_CREDENTIALS: tuple[Literal["secret"]] = ("secret",)
READ_METHODS = frozenset({"GET", "HEAD"})


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def hide_text(text: str) -> str:
    """``text`` with credentials replaced by placeholders (``[OPENAI_KEY]``, ``[hidden]``)."""
    from redline.scorers.pii import redact

    return redact(_URL_PASSWORD.sub(rf"\g<scheme>\g<user>:{HIDDEN}@", text),
                  groups=_CREDENTIALS)


def hide(value: Any) -> Any:
    """A JSON-like value with secret-named entries hidden and credentials in text replaced."""
    if isinstance(value, dict):
        return {k: HIDDEN if isinstance(k, str) and _SECRET_NAME.search(k) else hide(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [hide(v) for v in value]
    if isinstance(value, str):
        return hide_text(value)
    return value


def access_guard(
    token: str | None, loopback_only: bool
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """An HTTP middleware enforcing the rules in the module docstring."""

    async def guard(request: Request,
                    call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        from redline.dashboard.pages import error_page

        if request.method not in READ_METHODS and not _is_verify(request):
            return error_page(request, 405, "The dashboard is read-only.")
        if loopback_only and not is_loopback(_host_name(request.headers.get("host", ""))):
            return error_page(request, 403, "This dashboard answers only on its loopback "
                              "address; open it at http://127.0.0.1.")
        if token is not None:
            offered = request.query_params.get("token")
            if offered is not None and _same(offered, token):
                # Set the cookie and drop the token from the address bar and history.
                rest = [(k, v) for k, v in parse_qsl(request.url.query) if k != "token"]
                target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
                signed_in = RedirectResponse(target, status_code=303)
                signed_in.set_cookie(COOKIE, token, httponly=True, samesite="strict")
                return signed_in
            if not _authorised(request, token):
                return error_page(request, 401, "A token is needed: open the address "
                                  "`redline dashboard` printed, or send 'Authorization: "
                                  "Bearer TOKEN'.")
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; "
                                    "style-src 'self' 'unsafe-inline'; "
                                    "frame-ancestors 'none'; form-action 'self'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return guard


def _is_verify(request: Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/verify")


def _authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and _same(header[7:].strip(), token):
        return True
    cookie = request.cookies.get(COOKIE)
    return cookie is not None and _same(cookie, token)


def _same(offered: str, token: str) -> bool:
    return hmac.compare_digest(offered.encode("utf-8"), token.encode("utf-8"))


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
