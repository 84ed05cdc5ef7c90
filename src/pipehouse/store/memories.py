"""Memory rows: what plugins remember about each user (`open_webui.models.memories`).

Open WebUI finds the memories relevant to a text through its vector database; pipehouse has
none, so `search` ranks a user's memories by the share of the query's words they contain."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select

from pipehouse.store.db import Database
from pipehouse.store.models import StoredMemory
from pipehouse.store.results import rows_changed

_WORD = re.compile(r"\w+")


def memory_type(value: str | None) -> str:
    """Open WebUI keeps two types; anything but "user" is "context"."""
    return "user" if value == "user" else "context"


def relevance(query: str, content: str) -> float:
    """The share of the query's distinct words that `content` contains (0 to 1)."""
    wanted = set(_WORD.findall(query.lower()))
    if not wanted:
        return 0.0
    return len(wanted & set(_WORD.findall(content.lower()))) / len(wanted)


class MemoryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        user_id: str,
        content: str,
        type: str | None = None,
        path: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> StoredMemory:
        stamp = int(time.time())
        row = StoredMemory(
            id=str(uuid.uuid4()),
            user_id=user_id,
            type=memory_type(type),
            path=path,
            content=content,
            meta=meta,
            created_at=stamp,
            updated_at=stamp,
        )
        async with self.db.session() as session:
            session.add(row)
            await session.commit()
        return row

    async def update(
        self, memory_id: str, user_id: str, changes: dict[str, Any]
    ) -> StoredMemory | None:
        """Apply `changes` (content, type, path, meta: merged) to a memory the user owns."""
        async with self.db.session() as session:
            row = await session.get(StoredMemory, memory_id)
            if row is None or row.user_id != user_id:
                return None
            if changes.get("content") is not None:
                row.content = changes["content"]
            if changes.get("type") is not None:
                row.type = memory_type(changes["type"])
            if "path" in changes:
                row.path = changes["path"]
            if changes.get("meta") is not None:
                row.meta = {**(row.meta or {}), **changes["meta"]}
            row.updated_at = int(time.time())
            await session.commit()
            return row

    async def get(self, memory_id: str) -> StoredMemory | None:
        async with self.db.session() as session:
            return await session.get(StoredMemory, memory_id)

    async def rows(self, user_id: str | None = None) -> Sequence[StoredMemory]:
        """Every memory (of one user), oldest first."""
        query = select(StoredMemory).order_by(StoredMemory.created_at, StoredMemory.id)
        if user_id is not None:
            query = query.where(StoredMemory.user_id == user_id)
        async with self.db.session() as session:
            return (await session.execute(query)).scalars().all()

    async def delete(self, memory_id: str, user_id: str | None = None) -> bool:
        """Remove one memory (only the user's, when `user_id` is given); False if none was."""
        query = delete(StoredMemory).where(StoredMemory.id == memory_id)
        if user_id is not None:
            query = query.where(StoredMemory.user_id == user_id)
        async with self.db.session() as session:
            result = await session.execute(query)
            await session.commit()
        return bool(rows_changed(result))

    async def delete_of_user(self, user_id: str) -> int:
        async with self.db.session() as session:
            result = await session.execute(
                delete(StoredMemory).where(StoredMemory.user_id == user_id)
            )
            await session.commit()
        return rows_changed(result)

    async def search(
        self, user_id: str, query: str, limit: int | None = None
    ) -> list[tuple[StoredMemory, float]]:
        """The user's memories that share words with `query`, most relevant (then newest)
        first, with their relevance."""
        scored = [(row, relevance(query, row.content)) for row in await self.rows(user_id)]
        ranked = sorted(
            (pair for pair in scored if pair[1] > 0),
            key=lambda pair: (-pair[1], -pair[0].updated_at),
        )
        return ranked[:limit] if limit is not None else ranked
