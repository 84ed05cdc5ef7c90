"""Who is calling: a bearer API key resolved to a user with a role.

Keys are checked against their stored hashes; a resolved key is remembered for a few seconds so
a busy client costs one dictionary lookup per request instead of a database query, and requests
that arrive together with a key not yet checked share one query. A revoked key therefore stops
working within that window (`Settings.auth_cache_ttl`, 10 s). A web console session
(api/sessions.py) is resolved and cached the same way, so a session ended on any replica, or
whose key was revoked, stops working within the same window.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from pipehouse.api.sessions import CSRF_HEADER, CookieSession, cookie_session
from pipehouse.runtime.users import dunder_user
from pipehouse.store.accounts import Accounts
from pipehouse.store.console_sessions import ConsoleSessions
from pipehouse.store.models import User
from pipehouse.store.outage import database_unavailable


@dataclass(frozen=True)
class Principal:
    id: str
    email: str
    name: str
    role: str
    user: dict[str, Any]  # what plugins receive as __user__ (without valves)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def of(cls, row: User) -> Principal:
        plugin_view = dunder_user(
            row.id, email=row.email, name=row.name, role=row.role, created_at=row.created_at
        )
        return cls(row.id, row.email, row.name, row.role, plugin_view)


def bearer_key(authorization: str | None) -> str | None:
    """The key in an `Authorization: Bearer KEY` header (the scheme in any case), or None."""
    if authorization is None or authorization[:7].lower() != "bearer ":
        return None
    return authorization[7:].strip() or None


CacheKey = str | tuple[str, str]  # a key, or ("session", a console session id)

CSRF_REFUSED = "Missing or wrong CSRF token (X-Pipehouse-CSRF) for this session"


class Authenticator:
    def __init__(
        self,
        accounts: Accounts,
        *,
        ttl: float = 10.0,
        anonymous: Principal | None = None,
        sessions: ConsoleSessions | None = None,
    ):
        self.accounts = accounts
        self.sessions = sessions  # the web console's sign-ins
        self.ttl = ttl
        self.anonymous = anonymous  # --no-auth: everyone acts as this user
        self._cache: dict[CacheKey, tuple[float, Principal]] = {}
        self._pending: dict[CacheKey, asyncio.Future[User | None]] = {}  # lookups under way

    def cached(
        self, authorization: str | None, session: CookieSession | None = None
    ) -> Principal | None:
        """The caller when the key (else the console session) was checked within the last
        `ttl` seconds (no await: the fast lane asks this first for every request)."""
        if self.anonymous is not None:
            return self.anonymous
        key = bearer_key(authorization)
        if key is not None:
            cached = self._cache.get(key)
        elif session is not None and session.may_change:
            cached = self._cache.get(("session", session.id))
        else:
            return None
        return cached[1] if cached is not None and cached[0] > time.monotonic() else None

    async def principal(
        self, authorization: str | None, session: CookieSession | None = None
    ) -> Principal:
        """The caller of a bearer key, else of a console session's cookie; 401 without either
        (or when it is not valid), 403 for a pending account or a change without the CSRF
        token."""
        if self.anonymous is not None:
            return self.anonymous
        key = bearer_key(authorization)
        if key is not None:
            return await self._resolve(key, lambda: self.accounts.user_for_key(key))
        if session is None or self.sessions is None:
            raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
        sessions = self.sessions
        principal = await self._resolve(
            ("session", session.id), lambda: sessions.user_for(session.id)
        )
        if not session.may_change:
            raise HTTPException(403, CSRF_REFUSED)
        return principal

    def forget_session(self, session_id: str) -> None:
        """Signed out here: this replica stops honouring it at once (the others within `ttl`)."""
        self._cache.pop(("session", session_id), None)

    async def _resolve(
        self, cache_key: CacheKey, lookup: Callable[[], Awaitable[User | None]]
    ) -> Principal:
        cached = self._cache.get(cache_key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            row = await self._lookup(cache_key, lookup)
        except Exception as error:
            if cached is None or not database_unavailable(error):
                raise
            # The database is away: a key good a moment ago still is, for another `ttl`, so
            # the requests that follow do not each wait for the database to fail again.
            self._cache[cache_key] = (time.monotonic() + self.ttl, cached[1])
            return cached[1]
        if row is None:
            self._cache.pop(cache_key, None)
            refused = "Invalid API key" if isinstance(cache_key, str) else "Session ended"
            raise HTTPException(401, refused, headers={"WWW-Authenticate": "Bearer"})
        if row.role == "pending":
            raise HTTPException(403, "Your account is pending approval by an administrator")
        principal = Principal.of(row)
        self._cache[cache_key] = (now + self.ttl, principal)
        return principal

    async def _lookup(
        self, cache_key: CacheKey, lookup: Callable[[], Awaitable[User | None]]
    ) -> User | None:
        """One database lookup per key at a time: when a busy key's entry runs out, every
        request carrying it would otherwise query the database at once (and, on SQLite, each
        open a connection). A waiter that is cancelled leaves the lookup to the others."""
        pending = self._pending.get(cache_key)
        if pending is None:
            pending = self._pending[cache_key] = asyncio.ensure_future(lookup())
            pending.add_done_callback(lambda done: self._settled(cache_key, done))
        return await asyncio.shield(pending)

    def _settled(self, cache_key: CacheKey, done: asyncio.Future[User | None]) -> None:
        self._pending.pop(cache_key, None)
        if not done.cancelled():
            done.exception()  # seen here, so a failure nobody waited for is not reported again


async def current_user(request: Request) -> Principal:
    """FastAPI dependency: the caller (a bearer key, else a console session's cookie), or 401."""
    authorization = request.headers.get("authorization")
    session = None
    if authorization is None:
        session = cookie_session(
            request.headers.get("cookie"), request.method, request.headers.get(CSRF_HEADER)
        )
    return await request.app.state.auth.principal(authorization, session)


async def admin_user(request: Request) -> Principal:
    """FastAPI dependency: an admin caller, or 401/403."""
    principal = await current_user(request)
    if not principal.is_admin:
        raise HTTPException(
            403,
            "You do not have permission to access this resource. Please "
            "contact your administrator for assistance.",
        )
    return principal
