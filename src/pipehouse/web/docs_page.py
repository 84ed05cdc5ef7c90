"""`/docs`: the interactive OpenAPI page (Swagger UI 5, vendored and served from this
server), usable by a signed-in browser: requests carry the session cookie and
the CSRF token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from pipehouse.web.assets import SWAGGER_URL, templates
from pipehouse.web.pages import to_sign_in
from pipehouse.web.viewer import viewer_of

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request) -> Response:
    viewer = await viewer_of(request)
    if viewer is None:
        return to_sign_in(request)
    return templates.TemplateResponse(
        request, "docs.html", {"csrf": viewer.csrf, "swagger": SWAGGER_URL}
    )
