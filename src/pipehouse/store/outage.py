"""Telling "the database cannot be reached right now" from every other database error.

A replica whose PostgreSQL is away for a few seconds keeps serving what it holds in memory
(loaded plugins, valves, recently checked keys); what needs the database fails with a 503 that
says so, and the connection pool reconnects by itself once the database is back.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

UNAVAILABLE = "The database is unavailable right now; try again in a few seconds"

try:  # asyncpg's own errors when it connects (SQLAlchemy wraps only those of a live connection)
    import asyncpg

    DRIVER_CONNECT_ERRORS: tuple[type[BaseException], ...] = (
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,
        asyncpg.InterfaceError,
    )
except ImportError:  # no `postgres` extra: SQLite only
    DRIVER_CONNECT_ERRORS = ()


def database_unavailable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return isinstance(error, (ConnectionError, TimeoutError, *DRIVER_CONNECT_ERRORS))
