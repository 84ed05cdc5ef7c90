"""The change log replicas sharing one database read to follow each other's changes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select

from pipehouse.store.db import Database
from pipehouse.store.models import Change, now


class ChangeLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def append(self, topic: str, key: str, origin: str) -> int:
        async with self.db.session() as session:
            row = Change(topic=topic, key=key, origin=origin)
            session.add(row)
            await session.commit()
            return row.id

    async def latest(self) -> int:
        async with self.db.session() as session:
            return (await session.execute(select(func.max(Change.id)))).scalar() or 0

    async def after(self, change_id: int) -> Sequence[Change]:
        async with self.db.session() as session:
            found = await session.execute(
                select(Change).where(Change.id > change_id).order_by(Change.id)
            )
            return found.scalars().all()

    async def prune(self, older_than: float) -> None:
        """Forget changes every replica has had ample time to see."""
        async with self.db.session() as session:
            await session.execute(delete(Change).where(Change.created_at < now() - older_than))
            await session.commit()
