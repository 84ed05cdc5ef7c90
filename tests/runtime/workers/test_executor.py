"""`ProcessExecutor` over the life of its workers: a worker that was stopped (here: for being idle)
is started again by the next call, with the plugins it held loaded again, and the call answers."""

from __future__ import annotations

import asyncio

from pipehouse.runtime.workers.executor import ProcessExecutor
from pipehouse.runtime.workers.supervisor import Supervisor, WorkerLimits
from tests.conftest import Harness
from tests.runtime.helpers import message

WAIT = 30  # only so that a broken executor fails the test instead of hanging it


async def test_a_worker_stopped_after_being_idle_is_started_again_by_the_next_call():
    supervisor = Supervisor(WorkerLimits(idle=0.5))
    harness = Harness(ProcessExecutor(supervisor))
    try:
        await harness.add("returns_str")
        assert message(await harness.complete(harness.body("returns_str")))["content"] == (
            "plain answer"
        )
        (idle,) = supervisor.workers
        ended = await asyncio.wait_for(idle.wait(), WAIT)
        assert ended.cause == "idle" and not ended.crashed

        again = await asyncio.wait_for(harness.complete(harness.body("returns_str")), WAIT)
        assert message(again)["content"] == "plain answer"
        (restarted,) = supervisor.workers
        assert restarted.pid != idle.pid and restarted.alive
        assert [pool["plugins"] for pool in harness.executor.describe().values()] == [
            ["returns_str"]
        ]
    finally:
        await harness.executor.close()
        await supervisor.close()
