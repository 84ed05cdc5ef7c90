"""Tables. Plugin rows follow Open WebUI's `function` and `tool` tables (Open WebUI 0.12.4
routers/functions.py),
so exported JSON moves between the two; users keep their user valves in `settings` as there."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def now() -> int:
    return int(time.time())


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "user"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), default="user")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)
    last_active_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ApiKey(Base):
    """Only a hash of the key is kept; the key itself is shown once, when it is created."""

    __tablename__ = "api_key"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text, default="")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class _PluginColumns:
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valves: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # "api": created through the REST API; "directory": a file in a --plugins directory
    source: Mapped[str] = mapped_column(String(16), default="api")
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Function(_PluginColumns, Base):
    __tablename__ = "function"

    type: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    is_global: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class Tool(_PluginColumns, Base):
    __tablename__ = "tool"

    specs: Mapped[list[Any]] = mapped_column(JSON, default=list)


class PluginVersion(Base):
    """One saved version of a function or tool: every save keeps one (Open WebUI 0.12.4
    routers/functions.py)."""

    __tablename__ = "plugin_version"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    plugin_kind: Mapped[str] = mapped_column(String(16))  # "function" | "tool"
    plugin_id: Mapped[str] = mapped_column(String(128), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    commit_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class StoredConnection(Base):
    """An upstream model server an admin added (API or `pipehouse connections add`). The key is
    kept as given, not hashed: pipehouse must send it to the upstream."""

    __tablename__ = "connections"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    base_url: Mapped[str] = mapped_column(Text)
    api_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    prefix: Mapped[str | None] = mapped_column(Text, nullable=True)
    models: Mapped[list[Any]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class UploadedFile(Base):
    """An upload, as Open WebUI's `file` table keeps one (`meta`: name, content_type, size;
    `data`: status and extracted text), except that the bytes are found by `storage_key` in
    the storage backend rather than by an absolute path that ties rows to one machine."""

    __tablename__ = "file"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    hash: Mapped[str | None] = mapped_column(Text, nullable=True)  # SHA-256 of the bytes
    filename: Mapped[str] = mapped_column(Text)  # the client's name, made safe; a label only
    storage_key: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class StoredChat(Base):
    """A conversation, as Open WebUI's `chat` table keeps one: the whole chat is one JSON
    document (`title`, `models`, `history.messages` by id with parent links, `history.currentId`,
    and the `messages` list of the current branch), so plugins read it in the shape they know."""

    __tablename__ = "chat"
    __table_args__ = (Index("ix_chat_user_id_updated_at", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    chat: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class StoredMemory(Base):
    """A user's memory, as Open WebUI's `memory` table keeps one (`type`: "user" or "context";
    `path`: where it sits in the user's tree of memories). Open WebUI also indexes each memory
    in its vector database; pipehouse has none (docs/compatibility.md)."""

    __tablename__ = "memory"
    __table_args__ = (Index("ix_memory_user_id_updated_at", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16), default="context")
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    content: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Change(Base):
    """One change to plugins, valves or connections, for the other replicas sharing the
    database: they apply the rows after the last id they saw (service/replication.py)."""

    __tablename__ = "change_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(String(32))  # plugin | user | connections
    key: Mapped[str] = mapped_column(String(255), default="")  # the plugin or user id
    origin: Mapped[str] = mapped_column(String(64))  # the replica that made the change
    created_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)


class ConsoleSession(Base):
    """A web console sign-in (store/console_sessions.py): the SHA-256 of the cookie's session
    id, never the id itself, and the API key it was opened with."""

    __tablename__ = "console_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_key.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
