"""A load in a worker is given at least LOAD_TIMEOUT (runtime/workers/executor.py), not the call
timeout: a plugin whose import takes longer than a short call timeout and its grace (3.5 s against
0.3 + 2 s) still loads and answers, where it used to end its worker."""

from __future__ import annotations

from pipehouse.runtime.executor import CallContext, PluginSource
from pipehouse.runtime.workers.executor import ProcessExecutor
from tests.conftest import USER, plugin_path

PLUGIN = "workers_slow_import"


async def test_an_import_slower_than_the_call_timeout_loads_and_answers() -> None:
    executor = ProcessExecutor(call_timeout=0.3)
    try:
        path = plugin_path(PLUGIN)
        info = await executor.load(PluginSource(PLUGIN, path.read_text(), str(path)))
        assert info.id == PLUGIN
        body = {"model": PLUGIN, "messages": [{"role": "user", "content": "hi"}]}
        result = await executor.call_pipe(PLUGIN, body, CallContext(user=USER))
        assert result.value == "loaded after a slow import"
    finally:
        await executor.close()
