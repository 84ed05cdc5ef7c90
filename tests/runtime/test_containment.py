"""Plugin code never stops the server by raising (runtime/containment.py): `SystemExit`,
`KeyboardInterrupt`, `GeneratorExit` and a `CancelledError` of the plugin's own become a
`PluginError` naming the plugin and the hook, wherever plugin code runs; real cancellation
still goes through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.executor import CallContext, PluginSource
from pipehouse.runtime.inprocess import InProcessExecutor
from tests.conftest import USER, Harness, content_of, plugin_path
from tests.runtime.helpers import errors

EXITS = ["SystemExit", "KeyboardInterrupt", "GeneratorExit", "CancelledError"]
BODY = {"model": "exits_pipe", "messages": [{"role": "user", "content": "weather?"}]}
CHUNK = {"choices": [{"index": 0, "delta": {"content": "sunny"}}]}


async def _chunks() -> AsyncIterator[dict[str, Any]]:
    yield CHUNK


async def _drain(result) -> Any:
    if result.stream is None:
        return result.value
    return [item async for item in result.stream]


async def pipe_call(executor: InProcessExecutor, raised: str) -> Any:
    call = CallContext(user=USER, valves={"EXIT_WITH": raised, "WHEN": "call"})
    return await _drain(await executor.call_pipe("exits_pipe", BODY, call))


async def pipe_sync_stream(executor: InProcessExecutor, raised: str) -> Any:
    call = CallContext(user=USER, valves={"EXIT_WITH": raised, "WHEN": "sync_stream"})
    return await _drain(await executor.call_pipe("exits_pipe", BODY, call))


async def pipe_async_stream(executor: InProcessExecutor, raised: str) -> Any:
    call = CallContext(user=USER, valves={"EXIT_WITH": raised, "WHEN": "async_stream"})
    return await _drain(await executor.call_pipe("exits_pipe", BODY, call))


async def filter_hook(executor: InProcessExecutor, raised: str, hook: str) -> Any:
    call = CallContext(user=USER, valves={"EXIT_WITH": raised, "EXIT_IN": hook})
    if hook == "stream":
        stream = executor.filter_stream(["exits_filter"], _chunks(), [call])
        return [chunk async for chunk in stream]
    return await executor.call_filter("exits_filter", hook, dict(BODY), call)


async def action(executor: InProcessExecutor, raised: str) -> Any:
    call = CallContext(user=USER, valves={"EXIT_WITH": raised})
    return await executor.call_action("exits_action", dict(BODY), call)


async def tool(executor: InProcessExecutor, raised: str) -> Any:
    call = CallContext(user=USER, valves={"EXIT_WITH": raised})
    return await executor.call_tool("exits_tool", "quote", {"symbol": "ACME"}, call)


PLACES = {
    "pipe": (pipe_call, "exits_pipe", "pipe"),
    "sync generator": (pipe_sync_stream, "exits_pipe", "pipe"),
    "async generator": (pipe_async_stream, "exits_pipe", "pipe"),
    "inlet": (lambda e, r: filter_hook(e, r, "inlet"), "exits_filter", "inlet"),
    "stream filter": (lambda e, r: filter_hook(e, r, "stream"), "exits_filter", "stream"),
    "outlet": (lambda e, r: filter_hook(e, r, "outlet"), "exits_filter", "outlet"),
    "action": (action, "exits_action", "action"),
    "tool": (tool, "exits_tool", "tool"),
}


@pytest.fixture
async def executor() -> AsyncIterator[InProcessExecutor]:
    executor = InProcessExecutor()
    for name in ("exits_pipe", "exits_filter", "exits_action", "exits_tool"):
        path = plugin_path(name)
        await executor.load(PluginSource(name, path.read_text(), str(path)))
    yield executor
    await executor.close()


@pytest.mark.parametrize("raised", EXITS)
@pytest.mark.parametrize("place", list(PLACES))
async def test_a_base_exception_from_plugin_code_is_that_plugins_error(executor, place, raised):
    run, plugin_id, stage = PLACES[place]
    with pytest.raises(PluginError) as failure:
        await run(executor, raised)
    error = failure.value
    assert (error.plugin_id, error.stage, error.error_type) == (plugin_id, stage, raised)
    assert error.path == str(plugin_path(plugin_id))
    assert raised in error.hint and "keeps serving" in error.hint
    # the executor goes on running plugin code
    calm = CallContext(user=USER, valves={"EXIT_IN": "outlet"})
    assert await executor.call_filter("exits_filter", "inlet", dict(BODY), calm) == BODY


async def test_a_stream_that_exits_halfway_ends_with_an_error_frame_naming_the_pipe():
    harness = Harness()
    try:
        await harness.add("exits_pipe")
        harness.store.by_plugin["exits_pipe"] = {"WHEN": "sync_stream"}
        payloads = await harness.stream(harness.body("exits_pipe"))
        assert content_of(payloads) == "Looking up the weather... "
        [error] = errors(payloads)
        assert (error["plugin"], error["code"]) == ("exits_pipe", "SystemExit")
        assert payloads[-1] == "[DONE]"
    finally:
        await harness.executor.close()


@pytest.mark.parametrize("stream", [False, True])
async def test_real_cancellation_still_cancels_the_plugin_call(stream):
    executor = InProcessExecutor(call_timeout=60, idle_timeout=60)
    path = plugin_path("cancel_slow_upstream")
    await executor.load(PluginSource("slow", path.read_text(), str(path)))
    plugin = executor.loaded("slow").instance
    call = CallContext(user=USER, valves={"STREAM": stream})

    async def client() -> Any:
        return await _drain(await executor.call_pipe("slow", BODY, call))

    try:
        task = asyncio.create_task(client())
        await plugin.waiting.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled() and plugin.cancelled
    finally:
        await executor.close()
