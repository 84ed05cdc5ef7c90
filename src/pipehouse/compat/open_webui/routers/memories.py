"""`open_webui.routers.memories`: adding and querying a user's memories the way the route
functions do, which memory plugins call directly.

`query_memory` answers in the shape of Open WebUI's vector search (`ids`, `documents`,
`metadatas`, `distances`, one inner list for the one query) but ranks by words shared with the
query, not by embeddings: pipehouse has no vector database. `distances` are that share (0 to
1, higher is closer), the scale Open WebUI normalises its distances to.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel

from pipehouse.compat.bridge import AwaitableModel, dual
from pipehouse.compat.errors import CompatError, missing_names
from pipehouse.compat.services import Backend
from pipehouse.store.memories import MemoryStore

__all__ = ["AddMemoryForm", "QueryMemoryForm", "add_memory", "get_memories", "query_memory"]
__getattr__ = missing_names(__name__)


class AddMemoryForm(BaseModel):
    content: str
    type: Literal["user", "context"] = "context"
    path: str | None = None


class QueryMemoryForm(BaseModel):
    content: str
    k: int | None = 1


class SearchResult(AwaitableModel):
    ids: list[list[str]] | None
    documents: list[list[str]] | None
    metadatas: list[list[Any]] | None
    distances: list[list[float | int]] | None


def _user_id(user: Any) -> str:
    user_id = user.get("id") if isinstance(user, dict) else getattr(user, "id", None)
    if not isinstance(user_id, str) or not user_id:
        raise CompatError("memories need `user` (a UserModel or the __user__ dict)")
    return user_id


def _form(form_data: Any, form: type[BaseModel]) -> Any:
    return form_data if isinstance(form_data, form) else form.model_validate(form_data)


class _Routes:
    @dual(label="add_memory")
    async def add_memory(
        backend: Backend, request: Any = None, form_data: Any = None, user: Any = None, **_: Any
    ) -> Any:
        from open_webui.models.memories import memory_model

        form = _form(form_data, AddMemoryForm)
        row = await MemoryStore(backend.db).add(
            _user_id(user), form.content.strip(), form.type, form.path, {"created_by": "manual"}
        )
        return memory_model(row)

    @dual(label="query_memory")
    async def query_memory(
        backend: Backend, request: Any = None, form_data: Any = None, user: Any = None, **_: Any
    ) -> SearchResult:
        form = _form(form_data, QueryMemoryForm)
        memories = MemoryStore(backend.db)
        user_id = _user_id(user)
        if not await memories.rows(user_id):
            raise HTTPException(status_code=404, detail="No memories found for user")
        found = await memories.search(user_id, form.content, form.k)
        return SearchResult(
            ids=[[row.id for row, _ in found]],
            documents=[[row.content for row, _ in found]],
            metadatas=[
                [
                    {
                        "created_at": row.created_at,
                        "updated_at": row.updated_at,
                        "type": row.type,
                        "path": row.path,
                    }
                    for row, _ in found
                ]
            ],
            distances=[[score for _, score in found]],
        )

    @dual(label="get_memories")
    async def get_memories(
        backend: Backend, request: Any = None, user: Any = None, **_: Any
    ) -> list[Any]:
        from open_webui.models.memories import memory_model

        rows = await MemoryStore(backend.db).rows(_user_id(user))
        return [memory_model(row) for row in rows]


_routes = _Routes()
add_memory = _routes.add_memory
query_memory = _routes.query_memory
get_memories = _routes.get_memories
