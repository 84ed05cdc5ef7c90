"""The console's pages. Each is a server-rendered shell; its script fills it from the HTTP API
with the session cookie, so the console reads exactly what any other client of the API reads."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipehouse.console.scaffold import KINDS, TEMPLATES
from pipehouse.web.assets import STATIC_URL, templates
from pipehouse.web.viewer import Viewer, viewer_of

router = APIRouter(include_in_schema=False)

TABLES = ("functions", "tools")  # the two admin APIs a plugin is kept in


def render(
    request: Request, viewer: Viewer, page: str, *, admin_only: bool = False, **data: Any
) -> Response:
    if admin_only and not viewer.principal.is_admin:
        return templates.TemplateResponse(
            request, "forbidden.html", page_context(viewer, "forbidden"), status_code=403
        )
    return templates.TemplateResponse(
        request, f"{page}.html", {**page_context(viewer, page), "data": data}
    )


def page_context(viewer: Viewer, page: str) -> dict[str, Any]:
    principal = viewer.principal
    return {
        "user": {"name": principal.name or principal.email, "role": principal.role},
        "is_admin": principal.is_admin,
        "csrf": viewer.csrf,
        "page": page,
        "static": STATIC_URL,
    }


def to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request) -> Response:
    viewer = await viewer_of(request)
    if viewer is None:
        return to_sign_in(request)
    if not viewer.principal.is_admin:
        return RedirectResponse("/playground", status_code=303)
    return render(request, viewer, "overview")


@router.get("/plugins", response_class=HTMLResponse)
async def plugins(request: Request) -> Response:
    viewer = await viewer_of(request)
    if viewer is None:
        return to_sign_in(request)
    return render(request, viewer, "plugins", kinds=list(KINDS))


@router.get("/plugins/new", response_class=HTMLResponse)
async def new_plugin(request: Request, kind: str = "pipe") -> Response:
    """A new plugin's editor, holding the starting file `pipehouse new KIND` writes."""
    viewer = await viewer_of(request)
    if viewer is None:
        return to_sign_in(request)
    kind = kind if kind in KINDS else "pipe"
    code = (TEMPLATES / f"{kind}.py").read_text(encoding="utf-8")
    code = code.replace("{{title}}", f"My {kind}")
    table = "tools" if kind == "tools" else "functions"
    return render(
        request, viewer, "editor", admin_only=True, table=table, id=None, code=code, secrets=[]
    )


@router.get("/plugins/{table}/{plugin_id}", response_class=HTMLResponse)
async def plugin(request: Request, table: str, plugin_id: str) -> Response:
    """One plugin: code, state, versions and valves for admins; their user valves for users."""
    viewer = await viewer_of(request)
    if viewer is None:
        return to_sign_in(request)
    if table not in TABLES:
        return templates.TemplateResponse(
            request, "forbidden.html", page_context(viewer, "missing"), status_code=404
        )
    entry = request.app.state.catalog.get(plugin_id)
    info = entry.info if entry is not None else None
    return render(
        request,
        viewer,
        "editor",
        table=table,
        id=plugin_id,
        code=None,
        secrets=list(info.secret_valves) if info else [],
        user_secrets=list(info.secret_user_valves) if info else [],
    )


@router.get("/playground", response_class=HTMLResponse)
async def playground(request: Request) -> Response:
    viewer = await viewer_of(request)
    if viewer is None:
        return to_sign_in(request)
    return render(request, viewer, "playground")


@router.get("/connections", response_class=HTMLResponse)
async def connections(request: Request) -> Response:
    viewer = await viewer_of(request)
    if viewer is None:
        return to_sign_in(request)
    return render(request, viewer, "connections", admin_only=True)


@router.get("/users", response_class=HTMLResponse)
async def users(request: Request) -> Response:
    viewer = await viewer_of(request)
    if viewer is None:
        return to_sign_in(request)
    return render(request, viewer, "users", admin_only=True)
