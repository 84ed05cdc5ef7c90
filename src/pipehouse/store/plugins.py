"""Functions and tools as stored rows, each save kept as a version (Open WebUI 0.12.4
routers/functions.py)."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, select

from pipehouse.plugin.kinds import PluginTable
from pipehouse.store.db import Database
from pipehouse.store.models import Function, PluginVersion, Tool, now
from pipehouse.store.results import rows_changed

Row = TypeVar("Row", Function, Tool)


def version_id() -> str:
    """A UUID that sorts by creation time: `created_at` has whole seconds, and saves within one
    second must still come out in order (history pages, each version's parent)."""
    return str(uuid.UUID(int=(time.time_ns() << 64) | secrets.randbits(64)))


class PluginRows(Generic[Row]):
    """The rows of one table (functions or tools) and their versions."""

    def __init__(self, db: Database, model: type[Row], kind: PluginTable) -> None:
        self.db = db
        self.model: type[Row] = model
        self.kind = kind

    async def all(self) -> Sequence[Row]:
        async with self.db.session() as session:
            # newest first; rows saved in the same second (whole seconds) by id, not by
            # whatever the database returns first
            newest = (self.model.updated_at.desc(), self.model.id)
            found = await session.execute(select(self.model).order_by(*newest))
            return found.scalars().all()

    async def get(self, plugin_id: str) -> Row | None:
        async with self.db.session() as session:
            return await session.get(self.model, plugin_id)

    async def save(self, row: Row, *, user_id: str | None, message: str | None = None) -> Row:
        """Insert or update `row` and record a version when its code or name changed."""
        async with self.db.session() as session:
            current = await session.get(self.model, row.id)
            changed = current is None or (current.content, current.name) != (row.content, row.name)
            row.updated_at = now()
            merged = await session.merge(row)
            if changed:
                session.add(
                    PluginVersion(
                        id=version_id(),
                        plugin_kind=self.kind,
                        plugin_id=row.id,
                        parent_id=await self._latest_version_id(session, row.id),
                        snapshot={"name": row.name, "content": row.content, "meta": row.meta},
                        user_id=user_id,
                        commit_message=message,
                    )
                )
            await session.commit()
            return merged

    async def _latest_version_id(self, session: Any, plugin_id: str) -> str | None:
        found = await session.execute(
            select(PluginVersion.id)
            .where(PluginVersion.plugin_kind == self.kind, PluginVersion.plugin_id == plugin_id)
            .order_by(PluginVersion.created_at.desc(), PluginVersion.id.desc())
            .limit(1)
        )
        return found.scalar_one_or_none()

    async def update(self, plugin_id: str, **values: Any) -> Row | None:
        """Change fields that are not code (flags, valves); no version is recorded."""
        async with self.db.session() as session:
            row = await session.get(self.model, plugin_id)
            if row is None:
                return None
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now()
            await session.commit()
            return row

    async def delete(self, plugin_id: str) -> bool:
        async with self.db.session() as session:
            result = await session.execute(delete(self.model).where(self.model.id == plugin_id))
            await session.execute(
                delete(PluginVersion).where(
                    PluginVersion.plugin_kind == self.kind, PluginVersion.plugin_id == plugin_id
                )
            )
            await session.commit()
            return bool(rows_changed(result))

    async def versions(
        self, plugin_id: str, page: int = 1, per_page: int = 20
    ) -> Sequence[PluginVersion]:
        async with self.db.session() as session:
            found = await session.execute(
                select(PluginVersion)
                .where(PluginVersion.plugin_kind == self.kind, PluginVersion.plugin_id == plugin_id)
                .order_by(PluginVersion.created_at.desc(), PluginVersion.id.desc())
                .offset(max(page - 1, 0) * per_page)
                .limit(per_page)
            )
            return found.scalars().all()

    async def version(self, plugin_id: str, version_id: str) -> PluginVersion | None:
        async with self.db.session() as session:
            row = await session.get(PluginVersion, version_id)
            if row is None or row.plugin_id != plugin_id or row.plugin_kind != self.kind:
                return None
            return row


class PluginStore:
    def __init__(self, db: Database) -> None:
        self.functions: PluginRows[Function] = PluginRows(db, Function, PluginTable.FUNCTION)
        self.tools: PluginRows[Tool] = PluginRows(db, Tool, PluginTable.TOOL)
