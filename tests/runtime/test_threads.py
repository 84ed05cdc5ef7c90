"""Sync plugin code runs on worker threads, never on the event loop (threads.py; Open WebUI
runs it on the loop, Open WebUI 0.12.4 functions.py)."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from pipehouse.runtime.threads import ThreadRunner
from tests.conftest import USER, content_of
from tests.runtime.helpers import answer_json, errors


async def test_sync_pipe_runs_on_a_worker_thread(harness):
    await harness.add("sync_pipe_thread")
    report = answer_json(await harness.complete(harness.body("sync_pipe_thread")))
    assert report["thread"] != threading.get_ident()  # not the event loop's thread
    assert report["main"] is False


async def test_sync_inlet_runs_on_a_worker_thread(harness):
    await harness.add("sync_inlet_thread")
    await harness.add("args_all_injected")
    report = answer_json(await harness.complete(harness.body("args_all_injected")))
    assert report["body"]["inlet_thread"] != threading.get_ident()


async def test_sync_generator_is_drained_on_a_worker_thread(harness):
    await harness.add("sync_generator_thread")
    payloads = await harness.stream(harness.body("sync_generator_thread"))
    threads = {json.loads(line)["thread"] for line in content_of(payloads).splitlines()}
    assert threads and threading.get_ident() not in threads


def numbers(n: int):
    yield from range(n)


async def test_iterate_keeps_order_past_the_buffer_limit():
    runner = ThreadRunner(2)
    try:
        got = [item async for item in runner.iterate(numbers(2000), high_water=16)]
    finally:
        runner.shutdown()
    assert got == list(range(2000))


def fails_after_two():
    yield "a"
    yield "b"
    raise KeyError("gone")


async def test_iterate_propagates_the_generators_exception_after_its_items():
    runner = ThreadRunner(2)
    got = []
    try:
        with pytest.raises(KeyError, match="gone"):
            async for item in runner.iterate(fails_after_two()):
                got.append(item)
    finally:
        runner.shutdown()
    assert got == ["a", "b"]


async def test_iterate_stops_the_generator_when_the_consumer_closes_it():
    closed = threading.Event()

    def endless():
        try:
            while True:
                yield "x"
        finally:
            closed.set()

    runner = ThreadRunner(2)
    try:
        iterator = runner.iterate(endless(), high_water=8)
        assert [await anext(iterator) for _ in range(3)] == ["x", "x", "x"]
        await iterator.aclose()
        assert await asyncio.to_thread(closed.wait, 10)  # its `finally` ran
    finally:
        runner.shutdown()


@pytest.mark.inline_only("reads what the plugin instance recorded")
async def test_sync_generator_stops_when_a_stream_filter_fails(harness):
    await harness.add("filter_stream_raises")
    await harness.add("sync_generator_endless")
    instance = harness.executor.loaded("sync_generator_endless").instance
    payloads = await harness.stream(harness.body("sync_generator_endless"))
    assert errors(payloads)[0]["plugin"] == "filter_stream_raises"
    assert await asyncio.to_thread(instance.closed.wait, 10)  # the generator's `finally` ran


@pytest.mark.inline_only("reads what the plugin instance recorded")
async def test_sync_generator_stops_when_the_client_goes_away(harness):
    await harness.add("sync_generator_endless")
    instance = harness.executor.loaded("sync_generator_endless").instance
    turn = await harness.runtime.start(harness.body("sync_generator_endless", stream=True), USER)
    sse = turn.sse()
    received = b""
    while b"tick3" not in received:
        received += await anext(sse)
    await sse.aclose()
    assert await asyncio.to_thread(instance.closed.wait, 10)


@pytest.mark.inline_only("reads what the plugin instance recorded")
async def test_streaming_response_body_is_closed_when_a_stream_filter_fails(harness):
    # Not a thread, but the same promise: a pipe's stream is stopped when the answer stops.
    await harness.add("filter_stream_raises")
    await harness.add("returns_streaming_response_endless")
    instance = harness.executor.loaded("returns_streaming_response_endless").instance
    payloads = await harness.stream(harness.body("returns_streaming_response_endless"))
    assert errors(payloads)[0]["plugin"] == "filter_stream_raises"
    await asyncio.wait_for(instance.closed.wait(), 10)
