"""Who is looking at a console page: the signed-in principal and the session's CSRF token."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request

from pipehouse.api.principal import Principal
from pipehouse.api.sessions import cookie_authorization, session_id_of


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    csrf: str  # empty under --no-auth, where no session exists and none is needed


async def viewer_of(request: Request) -> Viewer | None:
    """The signed-in viewer (a session cookie, or a bearer key as any API client sends it), or
    None: the page then sends the browser to sign in. A page is a GET, so the CSRF token is not
    needed here; the page hands it to its scripts."""
    state = request.app.state
    store = getattr(state, "sessions", None)
    cookie = request.headers.get("cookie")
    try:
        authorization = request.headers.get("authorization") or cookie_authorization(
            store, cookie, "GET", None
        )
        principal = await state.auth.principal(authorization)
    except HTTPException:
        return None
    session = store.get(session_id_of(cookie)) if store is not None else None
    return Viewer(principal, session.csrf if session is not None else "")
