"""Browser sessions: the web console signs in with an API key and gets a cookie instead.

A browser cannot add an `Authorization` header to a page load, so signing in trades a key for an
opaque, random session id in an HttpOnly, SameSite=Strict cookie. The database keeps only the
id's hash and the key it was opened with (store/console_sessions.py), so a restart keeps
browsers signed in and any replica honours a session opened on another. A request carrying the
cookie is checked like one carrying that key (api/principal.py, cached as briefly): revoking the
key, or signing out on any replica, ends the session within the auth cache's window. The key
itself never reaches the browser again.

A request made with the cookie that changes something (any method but GET, HEAD, OPTIONS) must
also send the session's CSRF token in `X-Pipehouse-CSRF`: another site can make a browser send
the cookie (SameSite=Strict already stops most of that) but can never read the token, which the
console's pages carry in a `<meta>` tag. The token is an HMAC of the session id, so nothing more
is stored and every replica computes the same one. Requests with an `Authorization` header never
look at cookies.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import cookie_parser

COOKIE = "ph_session"
CSRF_HEADER = "x-pipehouse-csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_TTL = 12 * 3600.0  # a working day; signing in again takes one paste


@dataclass(frozen=True, slots=True)
class CookieSession:
    """A request's session cookie, not yet looked up."""

    id: str
    may_change: bool  # a safe method, or the session's CSRF token came with it


def csrf_token(session_id: str) -> str:
    """The session's CSRF token: derived from the id (which only the browser holds)."""
    return hmac.new(session_id.encode(), b"pipehouse console csrf", hashlib.sha256).hexdigest()


def session_id_of(cookie_header: str | None) -> str | None:
    """The session id in a `Cookie` header, if any."""
    if not cookie_header or COOKIE not in cookie_header:
        return None
    return cookie_parser(cookie_header).get(COOKIE)


def cookie_session(
    cookie_header: str | None, method: str, csrf: str | None
) -> CookieSession | None:
    """The session a request's cookie names, if any, and whether it may change something."""
    session_id = session_id_of(cookie_header)
    if not session_id:
        return None
    may_change = method in SAFE_METHODS or bool(
        csrf and hmac.compare_digest(csrf, csrf_token(session_id))
    )
    return CookieSession(session_id, may_change)


def header_values(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[str | None, str | None]:
    """The `Cookie` and CSRF header values among raw ASGI headers."""
    cookie = csrf = None
    for name, value in headers:
        if name == b"cookie":
            cookie = value.decode("latin-1")
        elif name == b"x-pipehouse-csrf":
            csrf = value.decode("latin-1")
    return cookie, csrf


def scope_session(scope: Mapping[str, Any], authorization: str | None) -> CookieSession | None:
    """For raw ASGI code (the fast lane, the body gate): the session cookie, looked at only when
    the request has no `Authorization` header."""
    if authorization is not None:
        return None
    cookie, csrf = header_values(scope["headers"])
    return cookie_session(cookie, scope["method"], csrf)
