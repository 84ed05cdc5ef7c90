"""Chat rows: the table behind `/api/v1/chats` and the history completions append to.

A chat is one JSON document, so every change is a read-modify-write of that document: `change`
holds a lock from the read to the commit (PostgreSQL: the row's; SQLite, which has no row locks:
the database's write lock, taken before reading), so two writers of one chat, in any event loop
or process, do not lose each other's messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Row, delete, select, text
from sqlalchemy.orm.attributes import flag_modified

from pipehouse.store.db import Database
from pipehouse.store.models import StoredChat
from pipehouse.store.results import rows_changed


class ChatStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, row: StoredChat) -> StoredChat:
        async with self.db.session() as session:
            session.add(row)
            await session.commit()
        return row

    async def get(self, chat_id: str) -> StoredChat | None:
        async with self.db.session() as session:
            return await session.get(StoredChat, chat_id)

    async def owner(self, chat_id: str) -> str | None:
        """The owner's user id, without reading the (possibly large) chat document."""
        async with self.db.session() as session:
            return await session.scalar(select(StoredChat.user_id).where(StoredChat.id == chat_id))

    async def titles(
        self, user_id: str, offset: int = 0, limit: int | None = None
    ) -> Sequence[Row[str, str, int, int]]:
        """(id, title, updated_at, created_at) of a user's chats, most recently updated first."""
        query = (
            select(StoredChat.id, StoredChat.title, StoredChat.updated_at, StoredChat.created_at)
            .where(StoredChat.user_id == user_id)
            .order_by(StoredChat.updated_at.desc(), StoredChat.id)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        async with self.db.session() as session:
            return (await session.execute(query)).all()

    async def change(self, chat_id: str, edit: Callable[[StoredChat], bool]) -> StoredChat | None:
        """Run `edit` on the locked row and save it when `edit` says it changed anything;
        None when there is no such chat. `edit` may change `chat` in place."""
        async with self.db.session() as session:
            if self.db.engine.dialect.name == "sqlite":
                await session.execute(text("BEGIN IMMEDIATE"))
            row = await session.scalar(
                select(StoredChat).where(StoredChat.id == chat_id).with_for_update()
            )
            if row is None:
                return None
            if edit(row):
                flag_modified(row, "chat")  # in-place edits of a JSON value are not tracked
                await session.commit()
            return row

    async def delete(self, chat_id: str) -> bool:
        async with self.db.session() as session:
            result = await session.execute(delete(StoredChat).where(StoredChat.id == chat_id))
            await session.commit()
            return bool(rows_changed(result))
