"""Replicas sharing one database follow each other's changes to plugins, valves and
connections.

A change is written to the change log (store/changes.py) after the change itself, then
announced on Redis when there is one. Every other replica applies it by reading the changed
rows from the database again (never from the notice, which carries only what changed), at once
on the notice, and otherwise when it next polls the log: every `POLL_ALONE` seconds without
Redis, every `POLL_WITH_REDIS` with it, to catch what an outage of Redis swallowed. Applying a
change twice is harmless (loads are cached by content), so the log is read from a little before
the last id seen: a change whose transaction committed late is not skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pipehouse.runtime.ids import unique_hex
from pipehouse.runtime.redis_bus import RedisBus
from pipehouse.store.changes import ChangeLog

log = logging.getLogger(__name__)

Apply = Callable[[str], Awaitable[None]]
POLL_ALONE = 2.0
POLL_WITH_REDIS = 15.0
LOOKBACK = 100  # ids read again before the last seen (late commits)
KEEP = 3600.0  # seconds changes stay in the log
PRUNE_EVERY = 600.0
CHANNEL = "changes"


class ChangeFeed:
    """Announces this replica's changes and applies the others'."""

    def __init__(self, changes: ChangeLog, bus: RedisBus | None) -> None:
        self.changes = changes
        self.bus = bus
        self.replica = bus.replica if bus is not None else unique_hex()
        self.poll = POLL_WITH_REDIS if bus is not None else POLL_ALONE
        self._handlers: dict[str, Apply] = {}
        self._seen = 0
        self._applied: set[int] = set()
        self._lock = asyncio.Lock()
        self._poller: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def handle(self, topic: str, apply: Apply) -> None:
        """`apply(key)` brings this replica in step with a change of `topic` made elsewhere."""
        self._handlers[topic] = apply

    async def start(self) -> None:
        """From now on, other replicas' changes are applied. Call before loading from the
        database, so a change made meanwhile is applied again rather than missed."""
        self._seen = await self.changes.latest()
        if self.bus is not None:
            self.bus.on(CHANNEL, self._notice)
            self.bus.on_reconnect(self._caught_up)
        self._poller = asyncio.create_task(self._poll(), name="change-feed")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    async def announce(self, topic: str, key: str = "") -> None:
        """This replica changed something (already committed): tell the others."""
        try:
            change_id: int | None = await self.changes.append(topic, key, self.replica)
        except Exception as error:  # the change stands; others see it when they next poll
            log.warning("could not record a %s change for other replicas: %s", topic, error)
            change_id = None
        if change_id is not None:
            self._applied.add(change_id)
        if self.bus is not None:
            await self.bus.publish(CHANNEL, {"id": change_id, "topic": topic, "key": key})

    async def check(self) -> None:
        """Apply every change in the log this replica has not applied yet."""
        rows = await self.changes.after(max(self._seen - LOOKBACK, 0))
        for row in rows:
            if row.origin == self.replica:
                self._applied.add(row.id)
            await self._apply(row.id, row.topic, row.key)
        if rows:
            self._seen = max(self._seen, rows[-1].id)
        self._applied = {i for i in self._applied if i > self._seen - LOOKBACK}

    async def _notice(self, message: dict[str, Any]) -> None:
        await self._apply(message.get("id"), str(message["topic"]), str(message.get("key", "")))

    async def _caught_up(self) -> None:
        self._wake.set()  # notices sent while Redis was away are lost; the log has them

    async def _apply(self, change_id: int | None, topic: str, key: str) -> None:
        async with self._lock:
            if change_id is not None and change_id in self._applied:
                return
            handler = self._handlers.get(topic)
            if handler is not None:
                await handler(key)  # raises (database away): applied at a later check
            if change_id is not None:
                self._applied.add(change_id)
                self._seen = max(self._seen, change_id)

    async def _poll(self) -> None:
        pruned = time.monotonic()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)
            self._wake.clear()
            try:
                await self.check()
                if time.monotonic() - pruned > PRUNE_EVERY:
                    await self.changes.prune(KEEP)
                    pruned = time.monotonic()
            except Exception as error:  # the database is away: try again next time
                log.warning("reading other replicas' changes failed: %s", error)
