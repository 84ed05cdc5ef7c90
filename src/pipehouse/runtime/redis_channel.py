"""The side channel across replicas: events and event calls through Redis pub/sub.

Each replica keeps its own subscribers (`MemoryEventChannel`) and:
- delivers an event to its own subscribers at once and publishes it for the others, so a
  client subscribed to any replica gets it, and the local ones still do while Redis is down;
- records each live subscription in a sorted set per user, scored by when it expires
  (refreshed every few seconds), so a call knows whether anyone anywhere listens, and a
  replica that dies stops counting within `PRESENCE_TTL`;
- keeps each waiting call as a key holding its user; an answer on any replica claims it
  atomically (first answer wins, other users' answers are refused) and is published to the
  replica that waits, which still enforces the call's timeout itself.
While Redis is unreachable the channel is what a single server has: its own subscribers only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from pipehouse.runtime.event_channel import (
    DISCONNECTED,
    MemoryEventChannel,
    Subscription,
)
from pipehouse.runtime.redis_bus import FAILURES, RedisBus

PRESENCE_TTL = 30.0  # seconds a subscription counts without its replica refreshing it
HEARTBEAT = PRESENCE_TTL / 3
CALL_TTL = 24 * 3600.0  # a call's key when the call has no timeout
CHANNEL = "events"
# Take a waiting call for this user: 1 once, 0 for anyone after, or for another user.
CLAIM = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class RedisEventChannel(MemoryEventChannel):
    def __init__(self, bus: RedisBus, call_timeout: float | None = 300.0) -> None:
        super().__init__(call_timeout)
        self.bus = bus
        self._members: dict[Subscription, str] = {}
        self._claim = bus.client.register_script(CLAIM)
        self._heartbeat: asyncio.Task[None] | None = None
        bus.on(CHANNEL, self._received)
        bus.on_reconnect(self._refresh)

    async def start(self) -> None:
        self._heartbeat = asyncio.create_task(self._beat(), name="event-presence")

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat

    # -- presence -----------------------------------------------------------------------------
    def _presence_key(self, user_id: str) -> str:
        return self.bus.key("listeners", user_id)

    async def _joined(self, subscription: Subscription) -> None:
        member = f"{self.bus.replica}.{id(subscription):x}|{subscription.chat_id or ''}"
        self._members[subscription] = member
        await self._announce({subscription: member})

    async def _left(self, subscription: Subscription) -> None:
        member = self._members.pop(subscription, None)
        if member is not None and self.bus.available:
            try:
                await self.bus.client.zrem(self._presence_key(subscription.user_id), member)
            except FAILURES as error:
                self.bus.failed("presence", error)
            await self.bus.publish(CHANNEL, {"kind": "left", "user_id": subscription.user_id})
        await self._release_orphans(subscription.user_id)

    async def _announce(self, members: dict[Subscription, str]) -> None:
        if not members or not self.bus.available:
            return
        expires = time.time() + PRESENCE_TTL
        try:
            async with self.bus.client.pipeline(transaction=False) as pipe:
                for subscription, member in members.items():
                    key = self._presence_key(subscription.user_id)
                    pipe.zadd(key, {member: expires})
                    pipe.zremrangebyscore(key, "-inf", time.time())
                    pipe.expire(key, int(PRESENCE_TTL * 2))
                await pipe.execute()
        except FAILURES as error:
            self.bus.failed("presence", error)

    async def _anyone_listening(self, user_id: str, chat_id: str | None) -> bool:
        if self.listeners(user_id, chat_id):
            return True
        if not self.bus.available:
            return False
        try:
            members = await self.bus.client.zrangebyscore(
                self._presence_key(user_id), time.time(), "+inf"
            )
        except FAILURES as error:
            self.bus.failed("presence", error)
            return False
        for member in members:
            text = member.decode() if isinstance(member, bytes) else str(member)
            wanted = text.rpartition("|")[2]
            if not wanted or wanted == chat_id:
                return True
        return False

    async def _release_orphans(self, user_id: str) -> None:
        for pending in list(self._calls.values()):
            if pending.user_id != user_id or pending.answer.done():
                continue
            if not await self._anyone_listening(user_id, pending.chat_id):
                pending.answer.set_result(dict(DISCONNECTED))

    async def _refresh(self) -> None:
        """Redis came back (perhaps empty): tell it again who listens here."""
        await self._announce(dict(self._members))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            await self._announce(dict(self._members))
            # a replica that died took its subscribers with it without saying so
            for user_id in {pending.user_id for pending in self._calls.values()}:
                await self._release_orphans(user_id)

    # -- events and calls ---------------------------------------------------------------------
    async def _share(self, user_id: str, chat_id: str | None, envelope: dict[str, Any]) -> None:
        self.publish(user_id, chat_id, envelope)
        message = {"kind": "deliver", "user_id": user_id, "chat_id": chat_id, "envelope": envelope}
        await self.bus.publish(CHANNEL, message)

    async def _call_opened(self, call_id: str, user_id: str, timeout: float | None) -> None:
        if not self.bus.available:
            return
        try:
            await self.bus.client.set(self.bus.key("call", call_id), user_id, px=_ms(timeout))
        except FAILURES as error:
            self.bus.failed("event call", error)

    async def _call_closed(self, call_id: str) -> None:
        if not self.bus.available:
            return
        try:
            await self.bus.client.delete(self.bus.key("call", call_id))
        except FAILURES as error:
            self.bus.failed("event call", error)

    async def answer(self, user_id: str, call_id: str, value: Any) -> bool:
        if not self.bus.available:
            return self._settle(user_id, call_id, value)
        try:
            claimed = await self._claim(keys=[self.bus.key("call", call_id)], args=[user_id])
        except FAILURES as error:
            self.bus.failed("event call", error)
            return self._settle(user_id, call_id, value)
        if not claimed or call_id in self._calls:
            # not claimed: unknown, taken, or a call opened here while Redis was down
            return self._settle(user_id, call_id, value)
        message = {"kind": "answer", "user_id": user_id, "call_id": call_id, "value": value}
        return await self.bus.publish(CHANNEL, message)

    async def _received(self, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "deliver":
            self.publish(message["user_id"], message["chat_id"], message["envelope"])
        elif kind == "answer":
            self._settle(message["user_id"], message["call_id"], message["value"])
        elif kind == "left":
            await self._release_orphans(message["user_id"])


def _ms(timeout: float | None) -> int:
    return int((timeout if timeout is not None else CALL_TTL) * 1000) + 5000
