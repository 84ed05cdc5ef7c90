"""Users and their API keys. Keys are random, shown once, and stored as SHA-256 hashes: a
leaked database does not leak working keys, and lookup stays one indexed query."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update

from pipehouse.store.db import Database
from pipehouse.store.models import ApiKey, User, now
from pipehouse.store.results import rows_changed

KEY_PREFIX = "ph-"
ROLES = ("admin", "user", "pending")


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """What lists show of a key: enough to recognise it, too little to use it."""
    return key[: len(KEY_PREFIX) + 6]


class Accounts:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_user(self, email: str, name: str | None = None, role: str = "user") -> User:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        user = User(
            id=str(uuid.uuid4()),
            email=email.strip().lower(),
            name=name or email.split("@")[0],
            role=role,
            settings={},
        )
        async with self.db.session() as session:
            session.add(user)
            await session.commit()
        return user

    async def get_user(self, user_id: str) -> User | None:
        async with self.db.session() as session:
            return await session.get(User, user_id)

    async def user_by_email(self, email: str) -> User | None:
        async with self.db.session() as session:
            found = await session.execute(select(User).where(User.email == email.strip().lower()))
            return found.scalar_one_or_none()

    async def list_users(self) -> Sequence[User]:
        async with self.db.session() as session:
            return (await session.execute(select(User).order_by(User.created_at))).scalars().all()

    async def count_admins(self) -> int:
        async with self.db.session() as session:
            found = await session.execute(select(User.id).where(User.role == "admin"))
            return len(found.all())

    async def set_role(self, user_id: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        async with self.db.session() as session:
            await session.execute(
                update(User).where(User.id == user_id).values(role=role, updated_at=now())
            )
            await session.commit()

    async def delete_user(self, user_id: str) -> bool:
        async with self.db.session() as session:
            await session.execute(delete(ApiKey).where(ApiKey.user_id == user_id))
            result = await session.execute(delete(User).where(User.id == user_id))
            await session.commit()
            return bool(rows_changed(result))

    async def update_settings(self, user_id: str, settings: dict[str, Any]) -> None:
        async with self.db.session() as session:
            await session.execute(
                update(User).where(User.id == user_id).values(settings=settings, updated_at=now())
            )
            await session.commit()

    async def create_key(
        self, user_id: str, name: str = "", key: str | None = None
    ) -> tuple[ApiKey, str]:
        """A new key for the user; returns the row and the key itself (never stored)."""
        key = key or new_key()
        row = ApiKey(
            id=str(uuid.uuid4()),
            user_id=user_id,
            name=name,
            prefix=display_prefix(key),
            key_hash=hash_key(key),
        )
        async with self.db.session() as session:
            session.add(row)
            await session.commit()
        return row, key

    async def list_keys(self, user_id: str | None = None) -> Sequence[ApiKey]:
        query = select(ApiKey).order_by(ApiKey.created_at)
        if user_id is not None:
            query = query.where(ApiKey.user_id == user_id)
        async with self.db.session() as session:
            return (await session.execute(query)).scalars().all()

    async def revoke_key(self, key_id_or_prefix: str) -> list[str]:
        """Revoke by id or by the displayed prefix; returns the hashes revoked."""
        async with self.db.session() as session:
            found = await session.execute(
                select(ApiKey).where(
                    ((ApiKey.id == key_id_or_prefix) | (ApiKey.prefix == key_id_or_prefix))
                    & ApiKey.revoked_at.is_(None)
                )
            )
            rows = found.scalars().all()
            for row in rows:
                row.revoked_at = now()
            await session.commit()
            return [row.key_hash for row in rows]

    async def user_for_key(self, key: str) -> User | None:
        async with self.db.session() as session:
            found = await session.execute(
                select(User)
                .join(ApiKey, ApiKey.user_id == User.id)
                .where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
            )
            return found.scalar_one_or_none()

    async def has_key(self, key: str) -> bool:
        async with self.db.session() as session:
            found = await session.execute(select(ApiKey.id).where(ApiKey.key_hash == hash_key(key)))
            return found.first() is not None
