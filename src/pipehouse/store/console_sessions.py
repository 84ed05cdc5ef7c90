"""Web console sessions in the database, so a restart keeps browsers signed in and every replica
honours a session opened on another (no sticky sessions).

A session id is 256 random bits, given to the browser only; the table keeps its SHA-256, the
API key it was opened with and when it expires. A session lasts as long as its key is not
revoked (and its user exists): checking it is one indexed join, like checking a key.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, select

from pipehouse.store.accounts import hash_key
from pipehouse.store.db import Database
from pipehouse.store.models import ApiKey, ConsoleSession, User, now


def hash_session(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ConsoleSessions:
    def __init__(self, db: Database, ttl: float) -> None:
        self.db = db
        self.ttl = ttl  # seconds a session lasts from sign-in

    async def open(self, key: str) -> str | None:
        """A new session for a live key: its id (shown to nobody but the browser), or None when
        the key is unknown or revoked. Expired sessions are removed on the way."""
        session_id = secrets.token_urlsafe(32)
        moment = now()
        async with self.db.session() as session:
            await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= moment))
            found = await session.execute(
                select(ApiKey.id).where(
                    ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)
                )
            )
            key_id = found.scalar_one_or_none()
            if key_id is None:
                await session.commit()
                return None
            session.add(
                ConsoleSession(
                    id_hash=hash_session(session_id),
                    key_id=key_id,
                    created_at=moment,
                    expires_at=moment + int(self.ttl),
                )
            )
            await session.commit()
        return session_id

    async def user_for(self, session_id: str) -> User | None:
        """The user of a session that has not expired and whose key is not revoked."""
        async with self.db.session() as session:
            found = await session.execute(
                select(User)
                .join(ApiKey, ApiKey.user_id == User.id)
                .join(ConsoleSession, ConsoleSession.key_id == ApiKey.id)
                .where(
                    ConsoleSession.id_hash == hash_session(session_id),
                    ConsoleSession.expires_at > now(),
                    ApiKey.revoked_at.is_(None),
                )
            )
            return found.scalar_one_or_none()

    async def close(self, session_id: str) -> None:
        async with self.db.session() as session:
            await session.execute(
                delete(ConsoleSession).where(ConsoleSession.id_hash == hash_session(session_id))
            )
            await session.commit()
