"""`open_webui.models.chats`: pipehouse's chats as Open WebUI's `ChatModel`s.

`Chats` goes through pipehouse's chat service, which keeps each chat as Open WebUI does (one
JSON document with `history.messages` by id). As in Open WebUI, plugin code addresses chats by
id alone. Methods that change a chat take the chat's lock on the server's event loop, so in
async code they must be awaited (the older un-awaited style is refused with an error that says
so); from sync plugin code they work either way. `Chat` is pipehouse's chat table class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import select

from pipehouse.compat.bridge import AwaitableModel, Table, dual
from pipehouse.compat.errors import CompatError, missing_names
from pipehouse.compat.services import Backend
from pipehouse.store.models import StoredChat

__all__ = ["Chat", "ChatForm", "ChatModel", "Chats", "ChatsTable"]
__getattr__ = missing_names(__name__)

Chat = StoredChat


class ChatModel(AwaitableModel):
    id: str
    user_id: str
    title: str
    chat: dict[str, Any]
    created_at: int
    updated_at: int
    share_id: str | None = None
    archived: bool = False
    pinned: bool | None = False
    meta: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    folder_id: str | None = None
    tasks: list[Any] | None = None
    summary: str | None = None
    current_message_id: str | None = None
    last_read_at: int | None = None
    timer_at: int | None = None
    model_config = ConfigDict(from_attributes=True)


class ChatForm(AwaitableModel):
    chat: dict[str, Any]
    folder_id: str | None = None


@dataclass(frozen=True)
class _Owner:
    """The chat service's `ChatUser` for a chat a plugin creates."""

    id: str
    name: str
    is_admin: bool = False


def _service(backend: Backend) -> Any:
    if backend.chats is None:
        raise CompatError("this pipehouse server keeps no chats")
    return backend.chats


def chat_model(row: StoredChat | None) -> ChatModel | None:
    if row is None:
        return None
    from pipehouse.service.chats import current_message_id

    return ChatModel(
        id=row.id,
        user_id=row.user_id,
        title=row.title,
        chat=row.chat or {},
        created_at=row.created_at,
        updated_at=row.updated_at,
        current_message_id=current_message_id(row.chat or {}),
    )


def _output_text(output: Any) -> str:
    from open_webui.utils.misc import get_output_text

    return get_output_text(output)


class ChatsTable(Table):
    """`Chats`: call each method with `await` (Open WebUI 0.12.4) or, for reads, without
    (older releases); see `pipehouse.compat.bridge`."""

    @dual()
    async def get_chat_by_id(backend: Backend, id: str, db: Any = None) -> ChatModel | None:
        return chat_model(await _service(backend).get(id))

    @dual()
    async def get_chat_by_id_and_user_id(
        backend: Backend, id: str, user_id: str, db: Any = None
    ) -> ChatModel | None:
        return chat_model(await _service(backend).get_for_user(id, user_id))

    @dual()
    async def get_chats_by_user_id(
        backend: Backend, user_id: str, *args: Any, **kwargs: Any
    ) -> list[ChatModel]:
        """The user's chats, most recently updated first."""
        query = (
            select(StoredChat)
            .where(StoredChat.user_id == user_id)
            .order_by(StoredChat.updated_at.desc())
        )
        async with backend.db.session() as session:
            rows = (await session.execute(query)).scalars().all()
        return [chat_model(row) for row in rows]  # type: ignore[misc]

    @dual()
    async def get_chat_title_by_id(backend: Backend, id: str) -> str | None:
        row = await _service(backend).get(id)
        return row.title if row is not None else None

    @dual()
    async def get_messages_map_by_chat_id(backend: Backend, id: str) -> dict | None:
        row = await _service(backend).get(id)
        if row is None:
            return None
        history = (row.chat or {}).get("history")
        return dict((history or {}).get("messages") or {}) if isinstance(history, dict) else {}

    @dual()
    async def get_message_by_id_and_message_id(
        backend: Backend, id: str, message_id: str
    ) -> dict | None:
        return await _service(backend).get_message(id, message_id)

    @dual(sync_on_loop=False)
    async def upsert_message_to_chat_by_id_and_message_id(
        backend: Backend, id: str, message_id: str, message: dict[str, Any], *, touch: bool = True
    ) -> ChatModel | None:
        """Merge into the message (or add it); a message without content takes the text of
        its `output` items, as in Open WebUI."""
        message = dict(message)
        if not message.get("content"):
            text = _output_text(message.get("output"))
            if text:
                message["content"] = text
        return chat_model(
            await _service(backend).upsert_message(id, message_id, message, touch=touch)
        )

    @dual(sync_on_loop=False)
    async def add_message_status_to_chat_by_id_and_message_id(
        backend: Backend, id: str, message_id: str, status: dict[str, Any]
    ) -> ChatModel | None:
        return chat_model(await _service(backend).add_message_status(id, message_id, status))

    @dual(sync_on_loop=False)
    async def update_chat_by_id(
        backend: Backend, id: str, chat: dict[str, Any], db: Any = None, *, touch: bool = True
    ) -> ChatModel | None:
        return chat_model(await _service(backend).update_chat(id, chat))

    @dual(sync_on_loop=False)
    async def update_chat_title_by_id(backend: Backend, id: str, title: str) -> ChatModel | None:
        return chat_model(await _service(backend).update_chat(id, {"title": title}))

    @dual(sync_on_loop=False)
    async def insert_new_chat(
        backend: Backend, user_id: str, form_data: ChatForm, db: Any = None
    ) -> ChatModel | None:
        form = form_data if isinstance(form_data, ChatForm) else ChatForm.model_validate(form_data)
        user = await backend.accounts.get_user(user_id)
        owner = _Owner(user_id, user.name if user is not None else "")
        return chat_model(await _service(backend).create(owner, form.chat))

    @dual(sync_on_loop=False)
    async def delete_chat_by_id(backend: Backend, id: str, db: Any = None) -> bool:
        return await _service(backend).delete(id)


Chats = ChatsTable()
