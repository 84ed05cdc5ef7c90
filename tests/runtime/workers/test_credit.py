"""Flow control between a worker and the server (runtime/workers/credit.py): a stream's
consumer that stops reading holds the plugin's endless generator back in its worker, the
server holds at most a window of that stream's items, reading again resumes it, and closing
the stream ends the generator even while it waits for credit."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

from pipehouse.runtime.executor import CallContext, PluginSource
from pipehouse.runtime.workers.credit import WINDOW
from pipehouse.runtime.workers.executor import ProcessExecutor
from tests.conftest import USER, plugin_path
from tests.support.polling import eventually_async

PLUGIN = "workers_counted_stream"
BODY = {"model": PLUGIN, "messages": [{"role": "user", "content": "go"}], "stream": True}


async def one_by_one(batches: AsyncGenerator[Any]) -> AsyncIterator[Any]:
    """A worker's stream item by item, as the turn takes it (a batch is a list); closing this
    closes the stream, as the turn does."""
    async with aclosing(batches):
        async for batch in batches:
            assert isinstance(batch, list)
            for item in batch:
                yield item


def produced(counter: Path) -> int:
    """What the plugin last wrote (0 while it is between truncating and writing)."""
    text = counter.read_text() if counter.exists() else ""
    return int(text) if text.isdigit() else 0


async def test_a_reader_that_stops_pauses_the_generator_and_bounds_what_the_server_holds(
    tmp_path: Path,
) -> None:
    counter = tmp_path / "count.txt"
    executor = ProcessExecutor()
    try:
        path = plugin_path(PLUGIN)
        await executor.load(PluginSource(PLUGIN, path.read_text(), str(path)))
        call = CallContext(user=USER, valves={"COUNT_FILE": str(counter)})
        result = await executor.call_pipe(PLUGIN, BODY, call)
        assert result.stream is not None
        stream = one_by_one(result.stream)
        first = [await anext(stream) for _ in range(5)]
        assert first == [f"tick{n} " for n in range(1, 6)]

        # The reader stops here. The worker runs out of credit and says so.
        [state] = await eventually_async(
            lambda: [s for s in executor.streams() if s["paused"]],
            what="the worker's stream pausing for credit",
        )
        assert state["plugin"] == PLUGIN
        assert 0 < state["held"] <= WINDOW
        paused_at = produced(counter)
        assert WINDOW - 1 <= paused_at <= WINDOW + 1  # the window, and not one batch more

        # Reading again resumes the generator, well past the first window.
        more = [await anext(stream) for _ in range(3 * WINDOW)]
        assert more[-1] == f"tick{5 + 3 * WINDOW} "
        await eventually_async(lambda: produced(counter) > paused_at, what="more produced")
        assert all(s["held"] <= WINDOW for s in executor.streams())

        # Stopped again, then closed while waiting: the generator ends in the worker.
        await eventually_async(
            lambda: [s for s in executor.streams() if s["paused"]],
            what="the stream pausing again",
        )
        await stream.aclose()
        closed = counter.with_suffix(".closed")
        await eventually_async(closed.exists, what="the generator's finally in the worker")
        assert executor.streams() == []
    finally:
        await executor.close()
