"""Telling "the database cannot be reached right now" from every other database error.

A replica whose PostgreSQL is away for a few seconds keeps serving what it holds in memory
(loaded plugins, valves, recently checked keys); what needs the database fails with a 503 that
says so, and the connection pool reconnects by itself once the database is back.

An outage shows in two places. A connection of the pool that breaks mid-run (the server
restarted, the network cut) fails its statement: SQLAlchemy wraps the driver's error in a
`DBAPIError` and marks the connection invalidated. Opening a new connection fails with whatever
the driver raises while connecting (refused, reset, timed out, "the database system is
starting up", a name that does not resolve): `DatabaseUnreachable`, raised by `report_unreachable`
for every connection the engine opens, names those, so a file error elsewhere is never taken
for an outage.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

UNAVAILABLE = "The database is unavailable right now; try again in a few seconds"
CONNECT_TIMEOUT = 5.0  # seconds to open a connection: a hung database fails fast, not in 60 s

try:  # asyncpg's own errors when it connects (SQLAlchemy wraps only those of a live connection)
    import asyncpg

    _CONNECT_FAILURES: tuple[type[BaseException], ...] = (
        OSError,  # ConnectionRefusedError, ConnectionResetError, socket.gaierror, ...
        TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
        asyncpg.InterfaceError,  # ConnectionDoesNotExistError: closed during the handshake
    )
except ImportError:  # no `postgres` extra: SQLite only
    _CONNECT_FAILURES = (OSError, TimeoutError)


class DatabaseUnreachable(ConnectionError):
    """A new connection to the database could not be opened."""


def report_unreachable(engine: Engine) -> None:
    """Make every failure to connect through `engine` a `DatabaseUnreachable` (the driver's
    error is its cause)."""

    @event.listens_for(engine, "do_connect")
    def connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except _CONNECT_FAILURES as error:
            reason = str(error) or type(error).__name__  # a timeout has no words of its own
            raise DatabaseUnreachable(f"cannot connect to the database: {reason}") from error


# What the API answers with a 503 (api/errors.py), when `database_unavailable` agrees.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (DBAPIError, DatabaseUnreachable, PoolTimeout)


def database_unavailable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return isinstance(error, DatabaseUnreachable | PoolTimeout)
