"""`open_webui.internal.db`: a session of pipehouse's database, for plugins that query it.

The schema is pipehouse's, not Open WebUI's: the `user`, `file`, `function` and `tool` tables
exist with pipehouse's columns (`open_webui.models.users.User` is pipehouse's user table
class), and most of Open WebUI's other tables do not. Only the async
session exists; pipehouse has no sync database driver, so Open WebUI's older `get_db()` is not
provided. The session belongs to the server's event loop: use it from `async def` plugin code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from pipehouse.compat import services as compat_services
from pipehouse.compat.errors import DOCS, CompatError, ServerRequired, missing_names

__all__ = ["get_async_db", "get_async_db_context"]
_SYNC_SESSION = (
    "is a sync database session, which pipehouse does not have (its database driver is "
    f"async); use `async with get_async_db_context() as session:` in async code ({DOCS})"
)
__getattr__ = missing_names(
    __name__,
    {
        name: f"open_webui.internal.db.{name} {_SYNC_SESSION}"
        for name in ("get_db", "get_db_context", "get_session", "SessionLocal", "Session")
    },
)


@asynccontextmanager
async def get_async_db_context(db: AsyncSession | None = None) -> AsyncIterator[AsyncSession]:
    """`db` itself when one is given, else a new session of pipehouse's database."""
    if isinstance(db, AsyncSession):
        yield db
        return
    services = compat_services.current()
    if services is None:
        raise ServerRequired("get_async_db_context")
    if asyncio.get_running_loop() is not services.loop:
        raise CompatError(
            "get_async_db_context(): the database session belongs to the server's event loop; "
            "use it from async plugin code, not from a loop of the plugin's own"
        )
    async with services.backend.db.session() as session:
        yield session


get_async_db = get_async_db_context
