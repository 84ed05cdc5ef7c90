"""Stored upstream connections: the rows behind `pipehouse connections` and
`/api/v1/connections`. Connections from the environment or `--upstream` are never stored."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from pipehouse.store.db import Database
from pipehouse.store.models import StoredConnection, now
from pipehouse.store.results import rows_changed


class ConnectionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> Sequence[StoredConnection]:
        """By id: a stable order for listings (`created_at` has whole seconds)."""
        async with self.db.session() as session:
            found = await session.execute(select(StoredConnection).order_by(StoredConnection.id))
            return found.scalars().all()

    async def get(self, connection_id: str) -> StoredConnection | None:
        async with self.db.session() as session:
            return await session.get(StoredConnection, connection_id)

    async def upsert(
        self,
        connection_id: str,
        *,
        base_url: str,
        api_key: str | None,
        prefix: str | None,
        models: list[str],
        enabled: bool,
    ) -> StoredConnection:
        """Insert or replace every field; `created_at` survives a replace."""
        async with self.db.session() as session:
            row = await session.get(StoredConnection, connection_id)
            if row is None:
                row = StoredConnection(id=connection_id, created_at=now())
                session.add(row)
            row.base_url = base_url
            row.api_key = api_key
            row.prefix = prefix
            row.models = list(models)
            row.enabled = enabled
            row.updated_at = now()
            await session.commit()
            return row

    async def delete(self, connection_id: str) -> bool:
        async with self.db.session() as session:
            result = await session.execute(
                delete(StoredConnection).where(StoredConnection.id == connection_id)
            )
            await session.commit()
            return bool(rows_changed(result))
