"""The side channel: plugins' events and event calls, delivered to the clients that subscribed.

A client subscribes for its own user (optionally one chat) and receives, as plain data:

    {"type": "event", "chat_id", "message_id", "data": EVENT}          # __event_emitter__
    {"type": "call", "call_id", "chat_id", "message_id", "timeout", "data": EVENT}
    {"type": "call:done", "call_id"}                                    # answered, or given up

and answers a call with `answer(user_id, call_id, value)`. Open WebUI sends the same events to
every socket of the user and each call to the one tab that made the request (Open WebUI 0.12.4
socket/main.py, `get_event_emitter` and `get_event_call`); API clients have no tab, so a call goes
to every subscriber of the user and chat, and the first answer wins.

A call never hangs and never raises: with nobody subscribed it returns `NO_LISTENER` at once;
when its time is up, `TIMED_OUT`; when the last subscriber leaves, `DISCONNECTED`.

`EventChannel` is what the server needs of a channel; `MemoryEventChannel` serves the clients of
one process, `runtime/redis_channel.py` the clients of every replica sharing a Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from pipehouse.runtime.events import NO_LISTENER
from pipehouse.runtime.ids import unique_hex

log = logging.getLogger(__name__)

TIMED_OUT = {"error": "Event call timed out. No client answered in time."}
DISCONNECTED = {"error": "Client session disconnected."}
QUEUE_LIMIT = 1024  # undelivered envelopes per subscriber before it is cut off
CLOSING = {"type": "closing"}  # the last envelope of a subscription the server ends


class Subscription:
    """One client's feed: what it may see, and what waits to be sent to it."""

    def __init__(self, user_id: str, chat_id: str | None) -> None:
        self.user_id = user_id
        self.chat_id = chat_id  # None: every chat of the user
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False
        self.closed = False

    def wants(self, chat_id: str | None) -> bool:
        return self.chat_id is None or self.chat_id == chat_id

    def deliver(self, envelope: dict[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(envelope)
        except asyncio.QueueFull:
            # A client that stopped reading must not hold the server's memory; it is told
            # and cut off, and can subscribe again.
            self.overflowed = True
            log.warning("event subscriber of user %s fell behind; cut off", self.user_id)

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(asyncio.QueueFull):  # a full queue is read before `closed`
            self.queue.put_nowait(CLOSING)

    async def next(self, wait: float) -> dict[str, Any] | None:
        """The next envelope, or None after `wait` seconds without one (time for a keep-alive).
        `CLOSING` when the server ended the subscription."""
        if self.closed and self.queue.empty():
            return CLOSING
        try:
            return await asyncio.wait_for(self.queue.get(), wait)
        except TimeoutError:
            return None


class _PendingCall:
    def __init__(self, user_id: str, chat_id: str | None) -> None:
        self.user_id = user_id
        self.chat_id = chat_id
        self.answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()


class EventChannel(Protocol):
    """The side channel as the server uses it, whichever processes it spans."""

    call_timeout: float | None

    def subscribe(
        self, user_id: str, chat_id: str | None = None
    ) -> AbstractAsyncContextManager[Subscription]:
        """A live subscription: once entered, events and calls for it are delivered."""
        ...

    async def emit(
        self, user_id: str, chat_id: str | None, message_id: str | None, event: dict[str, Any]
    ) -> None: ...

    async def call(
        self, user_id: str, chat_id: str | None, message_id: str | None, event: dict[str, Any]
    ) -> Any: ...

    async def answer(self, user_id: str, call_id: str, value: Any) -> bool: ...

    def host(self, user_id: str, chat_id: str | None, message_id: str | None) -> ChannelHost: ...

    def close(self) -> None: ...


class MemoryEventChannel:
    """Every subscription and every unanswered event call of this server process."""

    def __init__(self, call_timeout: float | None = 300.0) -> None:
        self.call_timeout = call_timeout
        self._subscriptions: dict[str, set[Subscription]] = defaultdict(set)
        self._calls: dict[str, _PendingCall] = {}

    @contextlib.asynccontextmanager
    async def subscribe(
        self, user_id: str, chat_id: str | None = None
    ) -> AsyncIterator[Subscription]:
        subscription = Subscription(user_id, chat_id)
        self._subscriptions[user_id].add(subscription)
        try:
            await self._joined(subscription)
            yield subscription
        finally:
            self._subscriptions[user_id].discard(subscription)
            if not self._subscriptions[user_id]:
                del self._subscriptions[user_id]
            await self._left(subscription)

    async def _joined(self, subscription: Subscription) -> None:
        """A subscription went live (a shared channel makes it known to other processes)."""

    async def _left(self, subscription: Subscription) -> None:
        self._release_orphaned_calls(subscription.user_id)

    def close(self) -> None:
        """End every subscription (the server is stopping): they would otherwise hold a
        graceful shutdown open for as long as their clients stay."""
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.close()

    def listeners(self, user_id: str, chat_id: str | None) -> list[Subscription]:
        return [s for s in self._subscriptions.get(user_id, ()) if s.wants(chat_id)]

    async def _anyone_listening(self, user_id: str, chat_id: str | None) -> bool:
        return bool(self.listeners(user_id, chat_id))

    async def _share(self, user_id: str, chat_id: str | None, envelope: dict[str, Any]) -> None:
        """Deliver to this process's subscribers (a shared channel: to every process's)."""
        self.publish(user_id, chat_id, envelope)

    async def _call_opened(self, call_id: str, user_id: str, timeout: float | None) -> None:
        """A call waits for an answer (a shared channel lets other processes take it)."""

    async def _call_closed(self, call_id: str) -> None:
        """The call got its answer or gave up."""

    def publish(self, user_id: str, chat_id: str | None, envelope: dict[str, Any]) -> None:
        for subscription in self.listeners(user_id, chat_id):
            subscription.deliver(envelope)

    async def emit(
        self, user_id: str, chat_id: str | None, message_id: str | None, event: dict[str, Any]
    ) -> None:
        envelope = {"type": "event", "chat_id": chat_id, "message_id": message_id, "data": event}
        await self._share(user_id, chat_id, envelope)

    async def call(
        self, user_id: str, chat_id: str | None, message_id: str | None, event: dict[str, Any]
    ) -> Any:
        """Ask the user's clients and wait for the first answer (see the module docstring)."""
        if not await self._anyone_listening(user_id, chat_id):
            return dict(NO_LISTENER)
        timeout = call_timeout(event, self.call_timeout)
        call_id = unique_hex()
        pending = self._calls[call_id] = _PendingCall(user_id, chat_id)
        await self._call_opened(call_id, user_id, timeout)
        await self._share(
            user_id,
            chat_id,
            {
                "type": "call",
                "call_id": call_id,
                "chat_id": chat_id,
                "message_id": message_id,
                "timeout": timeout,
                "data": event,
            },
        )
        try:
            return await asyncio.wait_for(asyncio.shield(pending.answer), timeout)
        except TimeoutError:
            return dict(TIMED_OUT)
        finally:
            self._calls.pop(call_id, None)
            await self._call_closed(call_id)
            await self._share(user_id, chat_id, {"type": "call:done", "call_id": call_id})

    async def answer(self, user_id: str, call_id: str, value: Any) -> bool:
        """Hand a client's answer to the waiting plugin; False when there is no such call for
        this user (unknown, already answered, timed out, or another user's)."""
        return self._settle(user_id, call_id, value)

    def _settle(self, user_id: str, call_id: str, value: Any) -> bool:
        pending = self._calls.get(call_id)
        if pending is None or pending.user_id != user_id or pending.answer.done():
            return False
        pending.answer.set_result(value)
        return True

    def _release_orphaned_calls(self, user_id: str) -> None:
        for pending in self._calls.values():
            mine = pending.user_id == user_id and not pending.answer.done()
            if mine and not self.listeners(user_id, pending.chat_id):
                pending.answer.set_result(dict(DISCONNECTED))

    def host(self, user_id: str, chat_id: str | None, message_id: str | None) -> ChannelHost:
        return ChannelHost(self, user_id, chat_id, message_id)


class ChannelHost:
    """A request's `Host` on the channel: its events and calls, addressed to its user and chat."""

    def __init__(
        self, channel: EventChannel, user_id: str, chat_id: str | None, message_id: str | None
    ) -> None:
        self.channel = channel
        self.user_id = user_id
        self.chat_id = chat_id
        self.message_id = message_id

    async def emit(self, event: dict[str, Any]) -> None:
        await self.channel.emit(self.user_id, self.chat_id, self.message_id, event)

    async def call(self, event: dict[str, Any]) -> Any:
        return await self.channel.call(self.user_id, self.chat_id, self.message_id, event)


def call_timeout(event: dict[str, Any], default: float | None) -> float | None:
    """Seconds a call may wait: the event's own `data.timeout` (seconds) or `data.timeout_ms`
    (Open WebUI's field), else the server's; 0 or less means no limit."""
    data = event.get("data")
    if not isinstance(data, dict):
        data = {}
    for key, scale in (("timeout", 1.0), ("timeout_ms", 0.001)):
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value * scale if value > 0 else None
    return default
