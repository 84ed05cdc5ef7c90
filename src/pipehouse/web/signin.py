"""Signing in with an API key (a session cookie in exchange) and signing out.

pipehouse keeps no passwords: a user signs in with one of their API keys (`pipehouse keys
create`), which the console trades for a session cookie (`api/sessions.py`), the session kept
in the database (`store/console_sessions.py`).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipehouse.api.principal import Principal, current_user
from pipehouse.api.sessions import COOKIE, session_id_of
from pipehouse.web.assets import STATIC_URL, templates

router = APIRouter(include_in_schema=False)

SIGN_IN_PATHS = frozenset({"/login"})  # takes a body without a key (api/body_limit.py)
MAX_FORM = 4096


def local_target(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (never `//elsewhere`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def same_origin(request: Request) -> bool:
    """A sign-in form posted from another site would sign the browser in as someone else."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host")


def sign_in_page(
    request: Request, error: str = "", target: str = "/", status: int = 200
) -> Response:
    return templates.TemplateResponse(
        request,
        "login.html",
        {"error": error, "next": target, "static": STATIC_URL},
        status_code=status,
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> Response:
    return sign_in_page(request, target=local_target(next))


@router.post("/login")
async def login(request: Request) -> Response:
    body = await request.body()
    form = parse_qs(body[:MAX_FORM].decode("utf-8", "replace")) if len(body) <= MAX_FORM else {}
    key = (form.get("key") or [""])[0].strip()
    target = local_target((form.get("next") or ["/"])[0])
    if not same_origin(request):
        return sign_in_page(
            request, "Sign-in refused: the form came from another site.", target, 403
        )
    try:
        await request.app.state.auth.principal(f"Bearer {key}")
    except HTTPException as error:
        message = "That key is not valid." if error.status_code == 401 else str(error.detail)
        return sign_in_page(request, message, target, error.status_code)
    session_id = await request.app.state.sessions.open(key)
    if session_id is None:  # revoked between the check and now
        return sign_in_page(request, "That key is not valid.", target, 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=int(request.app.state.sessions.ttl),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request, _: Principal = Depends(current_user)) -> Response:
    """Ends the session on the server, not only in this browser (needs the CSRF token)."""
    session_id = session_id_of(request.headers.get("cookie"))
    if session_id:  # none under --no-auth or with a bearer key
        await request.app.state.sessions.close(session_id)
        request.app.state.auth.forget_session(session_id)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
