"""Everything the console adds to the app: its pages, sign-in, `/docs` and static files."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from pipehouse.web import accounts_api, docs_page, pages, signin
from pipehouse.web.assets import STATIC, STATIC_URL

SIGN_IN_PATHS = signin.SIGN_IN_PATHS


def mount_console(app: FastAPI) -> None:
    """Adds the console's routes; static assets are public (they hold no data)."""
    app.include_router(signin.router)
    app.include_router(docs_page.router)
    app.include_router(accounts_api.router)
    app.include_router(pages.router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="console-static")
