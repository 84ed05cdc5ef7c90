"""The event channel on its own: who is a listener, and every way an event call ends."""

from __future__ import annotations

import asyncio

from pipehouse.runtime.event_channel import (
    CLOSING,
    DISCONNECTED,
    NO_LISTENER,
    QUEUE_LIMIT,
    TIMED_OUT,
    MemoryEventChannel,
    call_timeout,
)

ASK = {"type": "confirmation", "data": {"title": "ok?"}}


async def test_a_call_waits_for_the_first_answer():
    channel = MemoryEventChannel()
    async with channel.subscribe("u1") as subscription:
        call = asyncio.create_task(channel.call("u1", "c1", "m1", ASK))
        envelope = await subscription.next(1)
        assert envelope["type"] == "call" and envelope["data"] == ASK
        assert await channel.answer("u1", envelope["call_id"], "yes")
        assert not await channel.answer("u1", envelope["call_id"], "again")  # answered already
        assert await call == "yes"
        assert (await subscription.next(1)) == {"type": "call:done", "call_id": envelope["call_id"]}


async def test_the_last_listener_leaving_ends_a_waiting_call():
    channel = MemoryEventChannel()
    async with channel.subscribe("u1", "c1"):
        call = asyncio.create_task(channel.call("u1", "c1", None, ASK))
        await asyncio.sleep(0)
    assert await asyncio.wait_for(call, 1) == DISCONNECTED


async def test_calls_time_out_by_server_default_or_their_own_timeout():
    channel = MemoryEventChannel(call_timeout=0.05)
    async with channel.subscribe("u1"):
        assert await channel.call("u1", None, None, ASK) == TIMED_OUT
        slow = {"type": "input", "data": {"timeout_ms": 50}}
        assert await MemoryEventChannel(call_timeout=60).call("u1", None, None, slow) == NO_LISTENER
        assert await channel.call("u1", None, None, slow) == TIMED_OUT


def test_call_timeouts_read_seconds_or_milliseconds():
    assert call_timeout({"data": {"timeout": 2}}, 300) == 2
    assert call_timeout({"data": {"timeout_ms": 1500}}, 300) == 1.5
    assert call_timeout({"data": {"timeout": 0}}, 300) is None  # no limit
    assert call_timeout({"data": {"timeout": True}}, 300) == 300  # not a number of seconds
    assert call_timeout({}, None) is None


async def test_only_matching_subscriptions_receive_events():
    channel = MemoryEventChannel()
    async with (
        channel.subscribe("u1") as every_chat,
        channel.subscribe("u1", "c2") as other_chat,
        channel.subscribe("u2") as other_user,
    ):
        await channel.emit("u1", "c1", "m1", {"type": "status"})
        assert (await every_chat.next(1))["chat_id"] == "c1"
        assert await other_chat.next(0.01) is None
        assert await other_user.next(0.01) is None


async def test_a_subscriber_that_stops_reading_is_cut_off_not_kept_growing():
    channel = MemoryEventChannel()
    async with channel.subscribe("u1") as subscription:
        for _ in range(QUEUE_LIMIT + 10):
            await channel.emit("u1", None, None, {"type": "status"})
        assert subscription.overflowed
        assert subscription.queue.qsize() == QUEUE_LIMIT


async def test_closing_the_channel_ends_subscriptions():
    channel = MemoryEventChannel()
    async with channel.subscribe("u1") as subscription:
        channel.close()
        assert await subscription.next(1) is CLOSING
