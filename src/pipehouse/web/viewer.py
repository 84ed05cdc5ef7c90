"""Who is looking at a console page: the signed-in principal and the session's CSRF token."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request

from pipehouse.api.principal import Principal
from pipehouse.api.sessions import cookie_session, csrf_token


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    csrf: str  # empty under --no-auth, where no session exists and none is needed


async def viewer_of(request: Request) -> Viewer | None:
    """The signed-in viewer (a session cookie, or a bearer key as any API client sends it), or
    None: the page then sends the browser to sign in. A page is a GET, so the CSRF token is not
    needed here; the page hands it to its scripts."""
    authorization = request.headers.get("authorization")
    session = None
    if authorization is None:
        session = cookie_session(request.headers.get("cookie"), "GET", None)
    try:
        principal = await request.app.state.auth.principal(authorization, session)
    except HTTPException:
        return None
    return Viewer(principal, csrf_token(session.id) if session is not None else "")
