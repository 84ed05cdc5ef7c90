"""Redis pub/sub shared by the replicas of one deployment (PIPEHOUSE_REDIS_URL).

Redis is a help, never a dependency of a request: a publish that fails is logged (once per
outage) and dropped, the reader reconnects by itself and tells its listeners when it is back,
and while Redis is down publishes are skipped for a moment instead of each waiting for a
connect timeout. Every key and channel starts with the prefix, so several deployments (or test
runs) can share one Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from pipehouse.runtime.ids import unique_hex

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]
RETRY_AFTER = 1.0  # seconds publishes are skipped after a failure; also the reconnect pause
FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


class RedisBus:
    """One Redis client, one pub/sub reader, and the handlers of each channel."""

    def __init__(self, url: str, prefix: str) -> None:
        self.prefix = prefix
        self.replica = unique_hex()  # tells this process's own messages apart
        self.client: Redis = Redis.from_url(
            url, socket_connect_timeout=1.0, socket_timeout=2.0, health_check_interval=5
        )
        self._handlers: dict[str, Handler] = {}
        self._reconnected: list[Callable[[], Awaitable[None]]] = []
        self._reader: asyncio.Task[None] | None = None
        self._down_until = 0.0
        self._outage_logged = False
        self.connected = asyncio.Event()

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def on(self, channel: str, handler: Handler) -> None:
        """Call `handler` with every message on `channel` (its full name is prefixed)."""
        self._handlers[self.key(channel)] = handler

    def on_reconnect(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run after the reader subscribed again following an outage (missed messages are lost)."""
        self._reconnected.append(callback)

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name="redis-bus")
        with contextlib.suppress(TimeoutError):  # Redis down at start: serve, and keep trying
            await asyncio.wait_for(self.connected.wait(), 5)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.client.aclose()

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def failed(self, what: str, error: BaseException) -> None:
        """Note an outage: later calls skip Redis for a moment; logged once per outage."""
        self._down_until = time.monotonic() + RETRY_AFTER
        if not self._outage_logged:
            self._outage_logged = True
            log.warning(
                "Redis is unreachable (%s: %s); events and change notices between replicas "
                "are lost until it is back",
                what,
                type(error).__name__,
            )

    def _recovered(self) -> None:
        if self._outage_logged:
            self._outage_logged = False
            log.warning("Redis is reachable again")

    async def publish(self, channel: str, message: dict[str, Any]) -> bool:
        """Send to every replica (this one included); False when Redis could not take it."""
        if not self.available:
            return False
        message = {**message, "origin": self.replica}
        try:
            await self.client.publish(self.key(channel), orjson.dumps(message))
        except FAILURES as error:
            self.failed("publish", error)
            return False
        return True

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except FAILURES:
            return False

    async def _read(self) -> None:
        recovering = False
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._handlers)
                self.connected.set()
                if recovering:
                    recovering = False
                    self._recovered()
                    for callback in self._reconnected:
                        await callback()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        await self._dispatch(message)
            except FAILURES as error:
                self.connected.clear()
                recovering = True
                self.failed("subscription", error)
                await asyncio.sleep(RETRY_AFTER)
            finally:
                with contextlib.suppress(*FAILURES):
                    await pubsub.aclose()

    async def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        handler = self._handlers.get(channel.decode() if isinstance(channel, bytes) else channel)
        if handler is None:
            return
        try:
            data = orjson.loads(message["data"])
            if data.get("origin") != self.replica:
                await handler(data)
        except Exception:  # one bad message never stops the reader
            log.exception("handling a message on %s failed", channel)
