"""Every plugin call ends: a call timeout for calls, an idle timeout between streamed items."""

from __future__ import annotations

import sys

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.catalog import Catalog
from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.executor import InProcessExecutor, PluginSource
from tests.conftest import USER, content_of, parse_sse, plugin_path


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
