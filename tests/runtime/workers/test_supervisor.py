"""The supervisor ends, reaps and explains worker processes: exits, crashes, memory, deadlines,
blocked loops, idleness, and plugins that keep crashing their worker."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.workers.heartbeat import StallReport
from pipehouse.runtime.workers.supervisor import (
    Supervisor,
    WorkerExit,
    WorkerLimits,
    WorkerProcess,
    resident_bytes,
)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

STUB = (sys.executable, str(Path(__file__).with_name("worker_stub.py")))
WAIT = 30  # only so that a broken supervisor fails the test instead of hanging it


class Owner:
    """What the executor is to the supervisor: it owns workers and hears how they ended."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.exits: dict[int, asyncio.Future[WorkerExit]] = {}

    async def spawn(self, environment: Path | None = None) -> WorkerProcess:
        ended: asyncio.Future[WorkerExit] = asyncio.get_running_loop().create_future()
        worker = await self.supervisor.spawn(environment, on_exit=ended.set_result)
        self.exits[worker.pid] = ended
        with worker.call("spawned"):  # not idle while it answers, however slow the machine
            assert await run(worker, "pass") == b"ok\n"  # up, and speaking
        return worker

    async def ended(self, worker: WorkerProcess) -> WorkerExit:
        return await asyncio.wait_for(self.exits[worker.pid], WAIT)


async def run(worker: WorkerProcess, code: str) -> bytes:
    """Send one snippet; its answer, or b"" when the worker ended instead."""
    worker.writer.write(code.encode() + b"\n")
    await worker.writer.drain()
    return await asyncio.wait_for(worker.reader.readline(), WAIT)


def send(worker: WorkerProcess, code: str) -> None:
    worker.writer.write(code.encode() + b"\n")


def gone(pid: int) -> bool:
    """The process no longer exists (not even as a zombie: it was reaped)."""
    return not os.path.exists(f"/proc/{pid}")


@pytest.fixture
async def supervisor():
    sup = Supervisor(WorkerLimits(stall=0.3, unresponsive=2.0), command=STUB)
    yield sup
    await sup.close()


@pytest.fixture
def owner(supervisor: Supervisor) -> Owner:
    return Owner(supervisor)


async def test_a_worker_that_exits_is_reaped_and_its_calls_get_the_exit_code(owner: Owner):
    worker = await owner.spawn()
    with worker.call("quitter"):
        send(worker, "import os; os._exit(3)")
        ended = await owner.ended(worker)
    assert (ended.cause, ended.returncode, ended.running) == ("exit", 3, ("quitter",))
    error = ended.error("quitter", stage="pipe")
    assert isinstance(error, PluginError)
    assert "quitter" in str(error) and "exited with code 3" in str(error)
    assert gone(worker.pid) and worker.exit is ended and not worker.alive


async def test_a_segfault_is_named_by_its_signal(owner: Owner):
    worker = await owner.spawn()
    with worker.call("crasher"):
        send(worker, "import ctypes; ctypes.string_at(0)")
        ended = await owner.ended(worker)
    assert ended.cause == "signal"
    assert "SIGSEGV" in str(ended.error("crasher"))
    assert ended.error("crasher").error_type == "WorkerKilled"


async def test_a_worker_over_its_memory_limit_is_ended_naming_the_limit():
    sup = Supervisor(WorkerLimits(memory=150 * 1024 * 1024), command=STUB)
    owner = Owner(sup)
    try:
        worker = await owner.spawn()
        with worker.call("hog"):
            send(worker, "held = b'x' * (400 * 1024 * 1024); import time; time.sleep(60)")
            ended = await owner.ended(worker)
    finally:
        await sup.close()
    assert (ended.cause, ended.plugin_id) == ("memory", "hog")
    message = str(ended.error("hog"))
    assert "150 MB limit" in message and "PIPEHOUSE_WORKER_MEMORY" in message
    assert gone(worker.pid)


async def test_a_deadline_kill_ends_spinning_threads_and_the_processes_a_plugin_started(
    owner: Owner,
):
    worker = await owner.spawn()
    with worker.call("spinner"):
        answer = await run(
            worker,
            "import subprocess, threading, sys;"
            + "child = subprocess.Popen([sys.executable, '-c', 'while True: pass']);"
            + "threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()",
        )
        assert answer == b"ok\n"
        grandchildren = _children(worker.pid)
        assert grandchildren  # the plugin's own process, spinning
        ended = await worker.kill(
            "deadline", plugin_id="spinner", detail="was ended: a call ran past its 1 s deadline"
        )
    assert ended.cause == "deadline" and ended.plugin_id == "spinner"
    assert ended.error("spinner").error_type == "Timeout"
    assert gone(worker.pid)
    await _until(lambda: all(gone(pid) for pid in grandchildren))


async def test_a_blocked_event_loop_is_reported_naming_the_plugin_then_ended():
    stalls: list[StallReport] = []
    sup = Supervisor(
        WorkerLimits(stall=0.3, unresponsive=2.0),
        command=STUB,
        on_stall=lambda _worker, report: stalls.append(report),
    )
    owner = Owner(sup)
    try:
        worker = await owner.spawn()
        with worker.call("stub_plugin"), worker.call("bystander"):
            send(worker, "import time; time.sleep(600)")
            ended = await owner.ended(worker)
    finally:
        await sup.close()
    assert stalls and stalls[0].plugin_id == "stub_plugin" and stalls[0].line == 1
    assert (ended.cause, ended.plugin_id) == ("unresponsive", "stub_plugin")
    # the other plugin's call fails too (same worker), and is told who ended it
    message = str(ended.error("bystander"))
    assert "bystander" in message and "stub_plugin" in message and "blocked" in message


async def test_other_workers_keep_answering_when_one_crashes(owner: Owner):
    crashing, healthy = await owner.spawn(), await owner.spawn()
    send(crashing, "import ctypes; ctypes.string_at(0)")
    await owner.ended(crashing)
    assert healthy.alive
    assert await run(healthy, "x = 1 + 1") == b"ok\n"


async def test_idle_workers_stop_but_not_while_a_call_is_in_flight():
    sup = Supervisor(WorkerLimits(idle=1.0), command=STUB)
    owner = Owner(sup)
    try:
        busy = await owner.spawn()
        with busy.call("slow"):
            idle = await owner.spawn()
            ended = await owner.ended(idle)
            assert ended.cause == "idle" and not ended.crashed
            assert busy.alive  # older than the idle one, but it has a call in flight
        assert (await owner.ended(busy)).cause == "idle"
    finally:
        await sup.close()


async def test_a_plugin_that_keeps_crashing_its_worker_is_marked_failing():
    failing: list[tuple[str, WorkerExit]] = []
    sup = Supervisor(
        WorkerLimits(crash_limit=3, crash_window=600),
        command=STUB,
        on_failing=lambda plugin_id, ended: failing.append((plugin_id, ended)),
    )
    owner = Owner(sup)
    try:
        for attempt in range(3):
            sup.check("crasher")  # not failing yet: it may run
            if attempt:
                assert sup.backoff(None) > 0  # restarts after crashes wait a little longer
                assert sup.backoff(("other pool",)) == 0  # only in the pool that crashed
            worker = await owner.spawn()
            with worker.call("crasher"):
                send(worker, "import os; os._exit(1)")
                await owner.ended(worker)
        assert [plugin for plugin, _ in failing] == ["crasher"]
        with pytest.raises(PluginError) as raised:
            sup.check("crasher", stage="pipe")
        assert raised.value.error_type == "PluginFailing"
        assert "exited with code 1" in str(raised.value) and "crasher" in str(raised.value)
        sup.check("healthy")  # only that plugin
        sup.forgive("crasher")
        sup.check("crasher")
    finally:
        await sup.close()


async def test_restarts_after_crashes_wait_longer_each_time_up_to_a_limit():
    """The back-off of a pool doubles with each recent crash (0.25 s first), at most 10 s, and
    a start for that pool waits it out; other pools start at once."""
    sup = Supervisor(WorkerLimits(crash_window=600), command=STUB)
    owner = Owner(sup)
    try:
        workers = [await owner.spawn() for _ in range(7)]  # before any crash: no wait
        delays = []
        for worker in workers:
            send(worker, "import os; os._exit(1)")
            await owner.ended(worker)
            delays.append(sup.backoff(None))
        assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
        assert sup.backoff(("other pool",)) == 0
        with pytest.raises(TimeoutError):  # held back (10 s): not started within 1 s
            await asyncio.wait_for(sup.spawn(None, on_exit=lambda _: None), 1.0)
        assert not sup.workers
        other = await asyncio.wait_for(
            sup.spawn(None, on_exit=lambda _: None, pool=("other pool",)), WAIT
        )
        assert sup.workers == {other}
    finally:
        await sup.close()


async def test_close_stops_every_worker(owner: Owner, supervisor: Supervisor):
    workers = [await owner.spawn(), await owner.spawn()]
    await supervisor.close()
    for worker in workers:
        assert (await owner.ended(worker)).cause == "stopped" and gone(worker.pid)
    assert resident_bytes(workers[0].pid) == 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


async def _until(condition, timeout: float = WAIT) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.05)


async def test_a_worker_ending_closes_only_its_own_descriptors(owner: Owner):
    """Numbers of closed descriptors are reused at once: an end that closed one twice would
    close some other file of the server (here: files opened after the worker started)."""
    doomed = await owner.spawn()
    others = [os.open(os.devnull, os.O_RDONLY) for _ in range(16)]
    try:
        send(doomed, "import os; os._exit(0)")
        await owner.ended(doomed)
        for fd in others:
            os.fstat(fd)  # still open
    finally:
        for fd in others:
            os.close(fd)


async def test_workers_never_see_the_servers_own_secrets(owner: Owner, monkeypatch):
    monkeypatch.setenv("PIPEHOUSE_ADMIN_KEY", "ph-admin-secret")
    monkeypatch.setenv("PIPEHOUSE_UPSTREAM_KEYS", "sk-upstream-secret")
    monkeypatch.setenv("PIPEHOUSE_DATABASE_URL", "postgresql://app:hunter2@db/app")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-for-plugins")  # plugins read these, as in Open WebUI
    worker = await owner.spawn()
    with open(f"/proc/{worker.pid}/environ", "rb") as environ:
        seen = dict(item.split(b"=", 1) for item in environ.read().split(b"\0") if b"=" in item)
    assert b"PIPEHOUSE_ADMIN_KEY" not in seen and b"PIPEHOUSE_UPSTREAM_KEYS" not in seen
    assert b"PIPEHOUSE_DATABASE_URL" not in seen
    assert seen[b"OPENAI_API_KEY"] == b"sk-for-plugins"
