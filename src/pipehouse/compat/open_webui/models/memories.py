"""`open_webui.models.memories`: a user's memories, kept in pipehouse's `memory` table.

`Memories` has Open WebUI 0.12.4's methods and signatures; call each with `await` (0.12.4) or
without (older releases). Open WebUI also indexes every memory in its vector database, which
pipehouse does not have: `open_webui.routers.memories.query_memory` ranks memories by the words
they share with the query instead. `Memory` is pipehouse's table class.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict

from pipehouse.compat.bridge import AwaitableModel, Table, dual
from pipehouse.compat.errors import missing_names
from pipehouse.compat.services import Backend
from pipehouse.store import memories as memory_rows
from pipehouse.store.models import StoredMemory

__all__ = ["Memories", "MemoriesTable", "Memory", "MemoryModel"]
__getattr__ = missing_names(__name__)

Memory = StoredMemory


class MemoryModel(AwaitableModel):
    id: str
    user_id: str
    type: Literal["user", "context"] = "context"
    path: str | None = None
    content: str
    meta: dict | None = None
    updated_at: int
    created_at: int

    model_config = ConfigDict(from_attributes=True)


def memory_model(row: StoredMemory | None) -> MemoryModel | None:
    return MemoryModel.model_validate(row) if row is not None else None


def store(backend: Backend) -> memory_rows.MemoryStore:
    return memory_rows.MemoryStore(backend.db)


class MemoriesTable(Table):
    """`Memories`: see `pipehouse.compat.bridge` for the two call styles."""

    @staticmethod
    def normalize_memory_type(memory_type: str | None = None) -> str:
        return memory_rows.memory_type(memory_type)

    @dual()
    async def insert_new_memory(
        backend: Backend,
        user_id: str,
        content: str,
        memory_type: str | None = None,
        path: str | None = None,
        meta: dict | None = None,
        db: Any = None,
    ) -> MemoryModel | None:
        row = await store(backend).add(user_id, content, memory_type, path, meta)
        return memory_model(row)

    @dual()
    async def update_memory_by_id_and_user_id(
        backend: Backend,
        id: str,
        user_id: str,
        content: str | None,
        memory_type: str | None = None,
        path: str | None = None,
        update_path: bool = False,
        meta: dict | None = None,
        db: Any = None,
    ) -> MemoryModel | None:
        changes: dict[str, Any] = {"content": content, "type": memory_type, "meta": meta}
        if update_path:
            changes["path"] = path
        return memory_model(await store(backend).update(id, user_id, changes))

    @dual()
    async def get_memories(backend: Backend, db: Any = None) -> list[MemoryModel]:
        return [memory_model(row) for row in await store(backend).rows()]  # type: ignore[misc]

    @dual()
    async def get_memories_by_user_id(
        backend: Backend, user_id: str, db: Any = None
    ) -> list[MemoryModel]:
        rows = await store(backend).rows(user_id)
        return [memory_model(row) for row in rows]  # type: ignore[misc]

    @dual()
    async def get_memory_by_id(backend: Backend, id: str, db: Any = None) -> MemoryModel | None:
        return memory_model(await store(backend).get(id))

    @dual()
    async def delete_memory_by_id(backend: Backend, id: str, db: Any = None) -> bool:
        await store(backend).delete(id)
        return True  # as Open WebUI: True unless the database failed

    @dual()
    async def delete_memories_by_user_id(backend: Backend, user_id: str, db: Any = None) -> bool:
        await store(backend).delete_of_user(user_id)
        return True

    @dual()
    async def delete_memory_by_id_and_user_id(
        backend: Backend, id: str, user_id: str, db: Any = None
    ) -> bool:
        return await store(backend).delete(id, user_id)


Memories = MemoriesTable()
