"""Replicas started together on one PostgreSQL database take turns to start.

Migrations, the first admin and the rows of directory plugins are written at start; two
servers doing it at once both try to create `alembic_version` (a UniqueViolation) or the same
admin. A PostgreSQL advisory lock, held on a connection of its own while those are written, lets
one replica do it while the others wait, then find it done. It is released as soon as they are:
without `--plugins` directories right after the first admin, so the next replica does not wait
while this one loads plugins from the database. SQLite serves one process: no lock.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from pipehouse.store.db import Database

STARTUP_LOCK = 0x70697065686F7573  # "pipehous": any constant all replicas agree on


class StartupLock:
    def __init__(self, connection: AsyncConnection | None) -> None:
        self._connection = connection

    @classmethod
    async def acquire(cls, db: Database) -> StartupLock:
        """Wait for the replicas starting before this one; a process that dies holding the
        lock releases it with its connection."""
        if db.engine.dialect.name != "postgresql":
            return cls(None)
        connection = await db.engine.connect()
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK})
        await connection.commit()
        return cls(connection)

    async def release(self) -> None:
        """Let the next replica start; releasing again does nothing."""
        if self._connection is None:
            return
        try:
            await self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK}
            )
            await self._connection.commit()
        finally:
            await self._connection.close()
            self._connection = None
