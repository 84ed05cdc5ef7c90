"""Chats: creating and reading them, who may see which, the shapes Open WebUI 0.12.4 gives them
(`ChatResponse`, `ChatTitleIdResponse`), and completions that append to them.

Access rule: a chat is its owner's. Admins may also read and delete any chat (Open WebUI's
default, `ENABLE_ADMIN_CHAT_ACCESS`), but only the owner's completions append to it. Anyone
else is told the chat does not exist (404).

A completion that names a chat (`chat_id`, or `metadata.chat_id`) appends to it when the chat
is the caller's. An id the store does not know is only a correlation key for plugins: nothing
is created and nothing fails. Someone else's chat is refused (404) before anything runs, since
plugins read the history of `__chat_id__`.

The methods without a caller (`get`, `get_message`, `upsert_message`, ...) are for plugin code
(the `open_webui.models.chats` shim), which, as in Open WebUI, addresses chats by id alone.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from pipehouse.service import chat_history
from pipehouse.service.errors import ServiceError
from pipehouse.store.chats import ChatStore
from pipehouse.store.models import StoredChat, now

log = logging.getLogger(__name__)

NOT_FOUND = "We could not find what you're looking for :/"
PAGE_SIZE = 60  # Open WebUI's page of the chat list
DEFAULT_TITLE = "New Chat"


class ChatUser(Protocol):
    """Who asks (`pipehouse.api.principal.Principal` is one)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


class FinishedTurn(Protocol):
    """What the recorder reads of a finished turn (`pipehouse.runtime.turn.ChatTurn`)."""

    metadata: dict[str, Any]
    model: dict[str, Any]


def chat_id_of(body: Any) -> str | None:
    """The chat a completion request names: `chat_id`, or else `metadata.chat_id` (as
    `runtime.request_rules.build_metadata` reads them). Cheap: it runs for every completion."""
    if type(body) is not dict:
        return None
    chat_id = body.get("chat_id")
    if not chat_id:
        metadata = body.get("metadata")
        chat_id = metadata.get("chat_id") if type(metadata) is dict else None
    return chat_id if isinstance(chat_id, str) and chat_id else None


def current_message_id(chat: dict[str, Any]) -> str | None:
    history = chat.get("history")
    current = history.get("currentId") if isinstance(history, dict) else None
    if current:
        return current
    listed = [m for m in chat.get("messages") or [] if isinstance(m, dict) and m.get("id")]
    return listed[-1]["id"] if listed else None


def chat_response(row: StoredChat) -> dict[str, Any]:
    """Open WebUI's `ChatResponse`; pipehouse has no sharing, archive, pins or folders."""
    return {
        "id": row.id,
        "user_id": row.user_id,
        "title": row.title,
        "chat": row.chat,
        "updated_at": row.updated_at,
        "created_at": row.created_at,
        "share_id": None,
        "archived": False,
        "pinned": False,
        "meta": {},
        "folder_id": None,
        "current_message_id": current_message_id(row.chat or {}),
    }


def title_items(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Open WebUI's `ChatTitleIdResponse` list items, as far as pipehouse has their fields."""
    return [
        {"id": r.id, "title": r.title, "updated_at": r.updated_at, "created_at": r.created_at}
        for r in rows
    ]


def title_of(chat: dict[str, Any]) -> str:
    title = chat.get("title")
    return title if isinstance(title, str) and title.strip() else DEFAULT_TITLE


def new_chat_document(chat: dict[str, Any], user: ChatUser) -> dict[str, Any]:
    """A client's chat with the keys plugins expect filled in (`title`, `models`, `history`,
    `messages`) and every given message attributed to the creator, as Open WebUI does."""
    chat = copy.deepcopy(chat)
    chat["title"] = title_of(chat)
    chat.setdefault("models", [])
    history = chat_history.ensure_history(chat)
    for message in history["messages"].values():
        if isinstance(message, dict):
            message["user_id"] = user.id
            if message.get("role") == "user":
                message["user"] = {"id": user.id, "name": user.name}
    chat_history.set_current(chat, current_message_id(chat))
    return chat


class ChatService:
    def __init__(self, store: ChatStore) -> None:
        self.store = store

    # -- the API, for a caller ----------------------------------------------------------------
    async def create(self, user: ChatUser, chat: dict[str, Any]) -> StoredChat:
        document = new_chat_document(chat, user)
        row = StoredChat(
            id=str(uuid.uuid4()),
            user_id=user.id,
            title=document["title"],
            chat=document,
            created_at=now(),
            updated_at=now(),
        )
        return await self.store.add(row)

    async def titles(self, user_id: str, page: int | None = None) -> list[dict[str, Any]]:
        """The user's chats as Open WebUI lists them (id, title, updated_at, created_at), most
        recently updated first; all of them, or one page of `PAGE_SIZE`."""
        if page is None:
            rows = await self.store.titles(user_id)
        else:
            rows = await self.store.titles(user_id, (max(page, 1) - 1) * PAGE_SIZE, PAGE_SIZE)
        return title_items(rows)

    async def readable(self, chat_id: str, user: ChatUser) -> StoredChat:
        row = await self.store.get(chat_id)
        if row is None or (row.user_id != user.id and not user.is_admin):
            raise ServiceError(404, NOT_FOUND)
        return row

    async def delete_as(self, chat_id: str, user: ChatUser) -> bool:
        owner = await self.store.owner(chat_id)
        if owner is None or (owner != user.id and not user.is_admin):
            raise ServiceError(404, NOT_FOUND)
        return await self.store.delete(chat_id)

    async def is_callers(self, chat_id: str, user: ChatUser) -> bool:
        """True for the caller's own chat, False for an id the store does not know; someone
        else's chat is a 404 (its history must not reach plugins serving this caller)."""
        owner = await self.store.owner(chat_id)
        if owner is None:
            return False
        if owner != user.id:
            raise ServiceError(404, NOT_FOUND)
        return True

    async def recorder(
        self, chat_id: str, body: dict[str, Any], user: ChatUser
    ) -> TurnRecorder | None:
        """What appends this completion to its chat when the turn finishes; None when the chat
        is unknown. Takes a copy of the request's messages now: inlet filters may edit them, and
        the chat keeps what the client sent."""
        if not await self.is_callers(chat_id, user):
            return None
        sent = chat_history.conversation(copy.deepcopy(body.get("messages") or []))
        return TurnRecorder(self, chat_id, user, sent)

    async def record_turn(
        self, chat_id: str, user: ChatUser, sent: list[dict[str, Any]], answer: dict[str, Any]
    ) -> StoredChat | None:
        """Append a finished exchange to the user's chat (`chat_history.record_turn`)."""
        author = {"id": user.id, "name": user.name}

        def edit(row: StoredChat) -> bool:
            if row.user_id != user.id:  # deleted and made again by someone else meanwhile
                return False
            chat = copy.deepcopy(row.chat or {})
            chat_history.record_turn(chat, sent, answer, author)
            if not chat.get("models") and answer.get("model"):
                chat["models"] = [answer["model"]]
            row.chat, row.title, row.updated_at = chat, title_of(chat), now()
            return True

        return await self.store.change(chat_id, edit)

    # -- plugin code: by id, unchecked --------------------------------------------------------
    async def get(self, chat_id: str) -> StoredChat | None:
        return await self.store.get(chat_id)

    async def get_for_user(self, chat_id: str, user_id: str) -> StoredChat | None:
        row = await self.store.get(chat_id)
        return row if row is not None and row.user_id == user_id else None

    async def get_message(self, chat_id: str, message_id: str) -> dict[str, Any] | None:
        row = await self.store.get(chat_id)
        if row is None:
            return None
        history = (row.chat or {}).get("history")
        messages = history.get("messages") if isinstance(history, dict) else None
        found = messages.get(message_id) if isinstance(messages, dict) else None
        return found if isinstance(found, dict) else None

    async def upsert_message(
        self, chat_id: str, message_id: str, message: dict[str, Any], *, touch: bool = True
    ) -> StoredChat | None:
        """Merge into a message of the chat, or add it (`chat_history.upsert_message`)."""

        def edit(row: StoredChat) -> bool:
            chat = copy.deepcopy(row.chat or {})
            chat_history.upsert_message(chat, message_id, copy.deepcopy(message))
            row.chat, row.title = chat, title_of(chat)
            if touch:
                row.updated_at = now()
            return True

        return await self.store.change(chat_id, edit)

    async def add_message_status(
        self, chat_id: str, message_id: str, status: dict[str, Any]
    ) -> StoredChat | None:
        """Append to the message's `statusHistory` (a message that does not exist: no change)."""

        def edit(row: StoredChat) -> bool:
            chat = copy.deepcopy(row.chat or {})
            message = chat_history.ensure_history(chat)["messages"].get(message_id)
            if not isinstance(message, dict):
                return False
            message.setdefault("statusHistory", []).append(copy.deepcopy(status))
            chat_history.set_current(chat, chat["history"].get("currentId"))
            row.chat = chat
            return True

        return await self.store.change(chat_id, edit)

    async def update_chat(self, chat_id: str, changes: dict[str, Any]) -> StoredChat | None:
        """Merge top-level keys into the chat document (Open WebUI's `update_chat_by_id`)."""

        def edit(row: StoredChat) -> bool:
            chat = {**copy.deepcopy(row.chat or {}), **copy.deepcopy(changes)}
            row.chat, row.title, row.updated_at = chat, title_of(chat), now()
            return True

        return await self.store.change(chat_id, edit)

    async def delete(self, chat_id: str) -> bool:
        return await self.store.delete(chat_id)


class TurnRecorder:
    """The `on_finished` hook of one completion (`ChatTurn.on_finished`): appends the request's
    new messages and the final answer, after outlet filters, to the chat."""

    def __init__(
        self, service: ChatService, chat_id: str, user: ChatUser, sent: list[dict[str, Any]]
    ) -> None:
        self.service = service
        self.chat_id = chat_id
        self.user = user
        self.sent = sent

    async def __call__(self, turn: FinishedTurn, content: str) -> None:
        answer = {
            "id": turn.metadata.get("message_id"),
            "role": "assistant",
            "content": content,
            "model": turn.model.get("id"),
            "modelName": turn.model.get("name"),
            "done": True,
        }
        write = self.service.record_turn(self.chat_id, self.user, self.sent, answer)
        try:
            # shielded: a client that leaves as the stream ends must not cut the write short
            await asyncio.shield(write)
        except Exception:  # the answer was given; a failed save must not turn it into an error
            log.exception("could not append the answer to chat %s", self.chat_id)
