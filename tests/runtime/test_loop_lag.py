"""The loop-lag monitor (runtime/loop_lag.py) notices a blocked event loop and names the plugin
file and line that blocked it; a stall outside plugin code is reported without a plugin."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from pipehouse.runtime.executor import CallContext, PluginSource
from pipehouse.runtime.inprocess import InProcessExecutor
from pipehouse.runtime.loop_lag import HINT, LoopLagMonitor, Stall
from tests.conftest import USER, plugin_path

BODY = {"model": "blocks", "messages": [{"role": "user", "content": "hi"}]}


class Stalls:
    """What the monitor reported, with an event to wait on."""

    def __init__(self) -> None:
        self.seen: list[tuple[Stall, float]] = []
        self.one = asyncio.Event()

    def __call__(self, stall: Stall, seconds: float) -> None:
        self.seen.append((stall, seconds))
        self.one.set()


@pytest.fixture
async def executor() -> AsyncIterator[InProcessExecutor]:
    executor = InProcessExecutor()
    path = plugin_path("loop_blocks_async_pipe")
    await executor.load(PluginSource("blocks", path.read_text(), str(path)))
    yield executor
    await executor.close()


@pytest.fixture
async def stalls(executor) -> AsyncIterator[Stalls]:
    stalls = Stalls()
    monitor = LoopLagMonitor(0.2, executor.plugin_files, stalls)
    monitor.start()
    yield stalls
    monitor.stop()


async def test_a_plugin_that_blocks_the_loop_is_named_with_its_line(executor, stalls, caplog):
    call = CallContext(user=USER, valves={"RATE_LIMIT_WAIT": 0.8})
    with caplog.at_level(logging.WARNING, logger="pipehouse.runtime.loop_lag"):
        result = await executor.call_pipe("blocks", BODY, call)
        await asyncio.wait_for(stalls.one.wait(), 30)
    assert result.value == "answered after the rate limit"
    stall, _ = stalls.seen[0]
    path = plugin_path("loop_blocks_async_pipe")
    line = next(
        n for n, text in enumerate(path.read_text().splitlines(), 1) if "# blocks the loop" in text
    )
    assert (stall.plugin_id, stall.path, stall.line) == ("blocks", str(path), line)
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"plugin 'blocks' ({path}:{line})" in warning and HINT in warning


async def test_a_stall_outside_plugin_code_names_no_plugin(stalls):
    time.sleep(0.8)  # this test's own code blocks the loop
    await asyncio.wait_for(stalls.one.wait(), 30)
    assert stalls.seen[0][0].plugin_id is None


async def test_an_unloaded_plugin_is_no_longer_named(executor):
    path = str(plugin_path("loop_blocks_async_pipe"))
    assert executor.plugin_files[path] == "blocks"
    await executor.unload("blocks")
    assert path not in executor.plugin_files
