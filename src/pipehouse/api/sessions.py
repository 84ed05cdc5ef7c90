"""Browser sessions: the web console signs in with an API key and gets a cookie instead.

A browser cannot add an `Authorization` header to a page load, so signing in trades a key for an
opaque, random session id in an HttpOnly, SameSite=Strict cookie. The id maps, in this process,
to the key it was opened with; every request carrying the cookie is then checked exactly as if it
carried that key (revoking the key ends the session within the auth cache's window). The key
itself never reaches the browser again.

A request made with the cookie that changes something (any method but GET, HEAD, OPTIONS) must
also send the session's CSRF token in `X-Pipehouse-CSRF`: another site can make a browser send
the cookie (SameSite=Strict already stops most of that) but can never read the token, which the
console's pages carry in a `<meta>` tag. Requests with an `Authorization` header never look at
cookies.

Sessions live in the server's memory (like the event channel): a restart signs everyone out, and
with several replicas a browser must stay on the replica it signed in on.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from starlette.requests import cookie_parser

COOKIE = "ph_session"
CSRF_HEADER = "x-pipehouse-csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_TTL = 12 * 3600.0  # a working day; signing in again takes one paste


@dataclass(frozen=True)
class Session:
    authorization: str  # "Bearer <key>", as the key's own requests send it
    csrf: str
    expires: float


class SessionStore:
    """Open sessions by id. Ids and CSRF tokens are 256 random bits each."""

    def __init__(self, ttl: float = DEFAULT_TTL) -> None:
        self.ttl = ttl
        self._sessions: dict[str, Session] = {}

    def open(self, key: str) -> tuple[str, Session]:
        self._forget_expired()
        session_id = secrets.token_urlsafe(32)
        session = Session(f"Bearer {key}", secrets.token_urlsafe(32), time.monotonic() + self.ttl)
        self._sessions[session_id] = session
        return session_id, session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None or session.expires < time.monotonic():
            self._sessions.pop(session_id, None)
            return None
        return session

    def close(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for session_id in [i for i, s in self._sessions.items() if s.expires < now]:
            del self._sessions[session_id]


def session_id_of(cookie_header: str | None) -> str | None:
    """The session id in a `Cookie` header, if any."""
    if not cookie_header or COOKIE not in cookie_header:
        return None
    return cookie_parser(cookie_header).get(COOKIE)


def cookie_authorization(
    store: SessionStore | None, cookie_header: str | None, method: str, csrf: str | None
) -> str | None:
    """The `Authorization` value a request's session cookie stands for; None without a live
    session; 403 when the request changes something without the session's CSRF token."""
    if store is None:
        return None
    session = store.get(session_id_of(cookie_header))
    if session is None:
        return None
    if method not in SAFE_METHODS and not (csrf and hmac.compare_digest(csrf, session.csrf)):
        raise HTTPException(403, "Missing or wrong CSRF token (X-Pipehouse-CSRF) for this session")
    return session.authorization


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


def scope_authorization(scope: Mapping[str, Any], authorization: str | None) -> str | None:
    """For raw ASGI code (the fast lane, the body gate): the `Authorization` header when given,
    else what the session cookie stands for."""
    if authorization is not None:
        return authorization
    cookie, csrf = header_values(scope["headers"])
    if cookie is None:
        return None
    store = getattr(scope["app"].state, "sessions", None)
    return cookie_authorization(store, cookie, scope["method"], csrf)
