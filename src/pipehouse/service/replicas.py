"""What makes several replicas on one database behave as one server (docs/deployment.md):
the event channel they share, and the feed of each other's changes.

- Redis set (PIPEHOUSE_REDIS_URL): events and event calls reach clients on any replica, and
  changes are announced on it, then read from the database by every other replica.
- PostgreSQL without Redis: changes still converge by polling the change log, in a few
  seconds; events reach only the clients of the replica that runs the plugin (a warning says so).
- SQLite without Redis: one server, exactly as before; nothing is shared.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from sqlalchemy import text

from pipehouse.config import Settings
from pipehouse.runtime.event_channel import EventChannel, MemoryEventChannel
from pipehouse.runtime.redis_bus import RedisBus
from pipehouse.runtime.redis_channel import RedisEventChannel
from pipehouse.service.connections import ConnectionService
from pipehouse.service.plugins import PluginService
from pipehouse.service.replication import Apply, ChangeFeed
from pipehouse.store.changes import ChangeLog
from pipehouse.store.db import Database

log = logging.getLogger(__name__)
READY_TIMEOUT = 3.0  # seconds /ready waits for the database


class UserSettingsCache(Protocol):
    def forget_user(self, user_id: str) -> None: ...


class Replicas:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.db = db
        self.bus = (
            RedisBus(settings.redis_url, settings.redis_prefix) if settings.redis_url else None
        )
        self.events: EventChannel
        if self.bus is not None:
            self._redis_events = RedisEventChannel(self.bus, settings.event_call_timeout)
            self.events = self._redis_events
        else:
            self.events = MemoryEventChannel(call_timeout=settings.event_call_timeout)
        shared = self.bus is not None or db.engine.dialect.name == "postgresql"
        self.feed = ChangeFeed(ChangeLog(db), self.bus) if shared else None

    async def start(
        self, plugins: PluginService, valves: UserSettingsCache, connections: ConnectionService
    ) -> None:
        """Follow other replicas' changes from now on. Before loading plugins: a change made
        while they load is applied again rather than missed."""
        if self.feed is not None:
            self.feed.handle("plugin", plugins.refresh)
            self.feed.handle("user", _forget_user(valves))
            self.feed.handle("connections", connections.refresh)
            plugins.announce = self.feed.announce
            connections.announce = self.feed.announce
            await self.feed.start()
        if self.bus is not None:
            await self.bus.start()
            await self._redis_events.start()
            if not self.bus.connected.is_set():
                log.warning("Redis is not reachable yet; events stay on this replica until it is")
        elif self.feed is not None:
            log.warning(
                "PostgreSQL without PIPEHOUSE_REDIS_URL: replicas on this database pick up each "
                "other's changes within %.0f s, but plugins' events and event calls reach only "
                "clients of the replica running the plugin; set PIPEHOUSE_REDIS_URL to share them",
                self.feed.poll,
            )

    async def stop(self) -> None:
        if self.feed is not None:
            await self.feed.stop()
        if self.bus is not None:
            await self._redis_events.stop()
            await self.bus.close()

    async def readiness(self) -> dict[str, bool | None]:
        """Whether this replica can serve: its database answers, and its Redis when it has one."""
        try:
            await asyncio.wait_for(self._ping_database(), READY_TIMEOUT)
            database = True
        except Exception:
            database = False
        redis = None if self.bus is None else await self.bus.ping()
        return {"database": database, "redis": redis}

    async def _ping_database(self) -> None:
        async with self.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))


def _forget_user(valves: UserSettingsCache) -> Apply:
    async def forget(user_id: str) -> None:
        valves.forget_user(user_id)

    return forget
