"""Every plugin call ends: a call timeout for calls, an idle timeout between streamed items."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.catalog import Catalog, CommandLineValves
from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.executor import CallContext, PluginSource
from pipehouse.runtime.inprocess import InProcessExecutor
from tests.conftest import USER, Harness, content_of, parse_sse, plugin_path
from tests.runtime.helpers import make_executor


@pytest.fixture
async def runtime():
    executor = InProcessExecutor(call_timeout=0.3, idle_timeout=0.3)
    catalog = Catalog()
    for name in (
        "timeout_stalls",
        "timeout_slow_but_steady",
        "timeout_never_returns",
        "timeout_sync_blocks",
    ):
        path = plugin_path(name)
        catalog.add(await executor.load(PluginSource(name, path.read_text(), str(path))))
    yield ChatRuntime(executor, catalog)
    await executor.close()


def body(model: str, stream: bool) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}


async def streamed(runtime: ChatRuntime, model: str) -> list:
    turn = await runtime.start(body(model, True), USER)
    return parse_sse(b"".join([part async for part in turn.sse()]))


async def test_a_stream_that_stops_producing_ends_with_a_timeout_error(runtime):
    payloads = await streamed(runtime, "timeout_stalls")
    assert content_of(payloads) == "first "
    error = payloads[-2]["error"]
    assert error["code"] == "Timeout" and error["plugin"] == "timeout_stalls"
    assert payloads[-1] == "[DONE]"
    assert sys.modules["function_timeout_stalls"].STOPPED == [True]  # the pipe was stopped


async def test_a_silent_stream_ends_with_the_same_idle_timeout_in_a_worker(mode):
    """In a worker the idle timeout is the inline one (the worker keeps it, its error crosses
    as is), not the kill that backs it up `GRACE` later; and the plugins answer again after."""
    harness = Harness(make_executor(mode, call_timeout=5.0, idle_timeout=0.3))
    try:
        await harness.add("timeout_stalls")
        await harness.add("timeout_slow_but_steady")
        payloads = await harness.stream(harness.body("timeout_stalls"))
        assert content_of(payloads) == "first "
        error = payloads[-2]["error"]
        assert (error["code"], error["plugin"], error["stage"]) == (
            "Timeout",
            "timeout_stalls",
            "pipe",
        )
        assert "no output for 0.3 s" in error["message"], error["message"]
        assert payloads[-1] == "[DONE]"

        steady = await harness.stream(harness.body("timeout_slow_but_steady"))
        assert content_of(steady) == "".join(f"{n} " for n in range(10))
        again = await harness.stream(harness.body("timeout_stalls"))
        assert content_of(again) == "first " and again[-2]["error"]["code"] == "Timeout"
    finally:
        await harness.executor.close()


async def test_a_slow_but_steady_stream_is_not_cut_off(runtime):
    # Ten pauses add up to more than the idle limit; no single one exceeds it.
    payloads = await streamed(runtime, "timeout_slow_but_steady")
    assert content_of(payloads) == "".join(f"{n} " for n in range(10))
    assert payloads[-1] == "[DONE]"


async def test_a_call_that_never_returns_is_a_timeout_error(runtime):
    turn = await runtime.start(body("timeout_never_returns", False), USER)
    with pytest.raises(PluginError) as failure:
        await turn.complete()
    assert failure.value.error_type == "Timeout"
    assert failure.value.plugin_id == "timeout_never_returns"


async def test_a_blocking_sync_call_is_a_timeout_error_without_blocking_the_loop(runtime):
    turn = await runtime.start(body("timeout_sync_blocks", False), USER)
    with pytest.raises(PluginError) as failure:
        await turn.complete()
    assert failure.value.error_type == "Timeout"


# -- every hook ------------------------------------------------------------------------------------
STUCK = (
    "timeout_stuck_filter",
    "timeout_stuck_action",
    "timeout_stuck_tool",
    "timeout_stuck_manifold",
    "timeout_stuck_on_valves_updated",
)
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def _load(executor: InProcessExecutor, name: str) -> Any:
    path = plugin_path(name)
    return await executor.load(PluginSource(name, path.read_text(), str(path)))


async def _one_chunk() -> AsyncIterator[dict[str, Any]]:
    yield {"choices": [{"index": 0, "delta": {"content": "hi"}}]}


def _filter_hook(hook: str) -> Callable[[InProcessExecutor], Awaitable[Any]]:
    async def run(executor: InProcessExecutor) -> Any:
        call = CallContext(user=USER, valves={"STUCK_IN": hook})
        if hook == "stream":
            chunks = executor.filter_stream(["timeout_stuck_filter"], _one_chunk(), [call])
            return [chunk async for chunk in chunks]
        return await executor.call_filter("timeout_stuck_filter", hook, dict(BODY), call)

    return run


HOOKS: dict[str, tuple[Callable[[InProcessExecutor], Awaitable[Any]], str]] = {
    "inlet": (_filter_hook("inlet"), "timeout_stuck_filter"),
    "stream": (_filter_hook("stream"), "timeout_stuck_filter"),
    "outlet": (_filter_hook("outlet"), "timeout_stuck_filter"),
    "action": (
        lambda e: e.call_action("timeout_stuck_action", dict(BODY), CallContext(user=USER)),
        "timeout_stuck_action",
    ),
    "tool": (
        lambda e: e.call_tool("timeout_stuck_tool", "search", {"query": "x"}, CallContext()),
        "timeout_stuck_tool",
    ),
    "pipes": (
        lambda e: e.models("timeout_stuck_manifold", CallContext()),
        "timeout_stuck_manifold",
    ),
    "on_startup": (lambda e: _load(e, "timeout_stuck_on_startup"), "timeout_stuck_on_startup"),
    "on_valves_updated": (
        lambda e: e.call_pipe(
            "timeout_stuck_on_valves_updated", dict(BODY), CallContext(valves={"MODEL": "large"})
        ),
        "timeout_stuck_on_valves_updated",
    ),
}


@pytest.fixture
async def stuck() -> AsyncIterator[InProcessExecutor]:
    executor = InProcessExecutor(call_timeout=0.3, idle_timeout=0.3)
    for name in STUCK:
        await _load(executor, name)
    yield executor
    await executor.close()


@pytest.mark.parametrize("hook", list(HOOKS))
async def test_every_hook_runs_under_the_call_timeout(stuck, hook):
    run, plugin_id = HOOKS[hook]
    with pytest.raises(PluginError) as failure:
        await run(stuck)
    error = failure.value
    assert (error.error_type, error.plugin_id, error.stage) == ("Timeout", plugin_id, hook)
    assert f"plugin '{plugin_id}'" in str(error) and hook in str(error)


async def test_a_stuck_stream_filter_ends_the_answer_with_a_timeout_naming_it(stuck):
    catalog = Catalog()
    for name in ("timeout_slow_but_steady", "timeout_stuck_filter"):
        catalog.add(await _load(stuck, name))  # loaded already: the live instance's info
    store = CommandLineValves()
    store.by_plugin["timeout_stuck_filter"] = {"STUCK_IN": "stream"}
    turn = await ChatRuntime(stuck, catalog, store).start(
        body("timeout_slow_but_steady", True), USER
    )
    payloads = parse_sse(b"".join([part async for part in turn.sse()]))
    error = payloads[-2]["error"]
    assert (error["code"], error["plugin"], error["stage"]) == (
        "Timeout",
        "timeout_stuck_filter",
        "stream",
    )
    assert payloads[-1] == "[DONE]"
