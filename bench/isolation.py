"""CPU per non-streamed request, isolated against inline: the server's and its worker's, in-process.

    .venv/bin/python bench/isolation.py [--requests 5000] [--repeat 5] [--concurrency 16] [--cpu 0]
    .venv/bin/python bench/isolation.py --profile server   # cProfile the server (isolated)
    .venv/bin/python bench/isolation.py --profile worker   # cProfile the worker
    .venv/bin/python bench/isolation.py --executor         # the executors alone, no app
    .venv/bin/python bench/isolation.py --stream 1000      # a streamed answer of 1,000 chunks

`server.py`'s isolated row says what isolation is worth over HTTP, but on a shared machine its
requests/s move with the load from everything else. What a change to the isolated path saves is
steadier as CPU time: here `create_app` is built as `pipehouse serve` builds it (SQLite in a
temporary directory, auth, metrics, timeouts, the collector tuned) over `bench/plugins/server`,
and `--concurrency` clients post the bench's non-streamed request (the global inlet filter
`bench_inlet`, then the pipe `bench_ok`: one round trip to the worker when isolated) as ASGI
calls on uvloop, no sockets. Per request it reports the CPU time of this process (the server,
clients included: the same work in both variants), of its worker processes (from /proc), and
the wall time; figures are medians of `--repeat` runs of `--requests` (Linux only: /proc).
`--stream N` posts the streamed request of server.py's streaming rows instead (`bench_stream`,
N chunks, the same inlet filter) and reports CPU per stream; `--stream-filter` adds a global
stream filter (bench/plugins/stream_filter.py), so every chunk goes to it and back.
`--executor` leaves the app out: `--concurrency` clients call `call_filter` (the inlet) and
`call_pipe` on a `ProcessExecutor` or an `InProcessExecutor` directly, so only what the
executors do is left, and the figures are steadier still.
The last line is what isolation adds: over HTTP an inline request costs the server about
160 µs (server.py's per CPU-s column), so isolated >= 60% of the inline rate on one core
needs that addition under about 105 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import logging
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import uvloop

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import orjson  # noqa: E402
from request import HEADERS, KEY, App, chat_scope, check, receive_once, request  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def children() -> list[int]:
    """This process's children: the isolated server's workers."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == me:
                found.append(int(entry.name))
    return found


def profile_workers(path: Path) -> None:
    """Workers started from now on run under cProfile and write `path` when they end."""
    from pipehouse.runtime.workers import supervisor

    code = (
        "import cProfile; from pipehouse.runtime.workers.main import main; "
        f"cProfile.run('main([])', {str(path)!r})"
    )
    defaults = supervisor.Supervisor.__init__.__kwdefaults__
    assert defaults is not None
    defaults["command"] = (sys.executable, "-c", code)


async def build(stack: AsyncExitStack, isolation: str, stream_filter: bool = False) -> Any:
    from pipehouse.api.app import create_app
    from pipehouse.config import Settings

    data = Path(tempfile.mkdtemp(prefix="pipehouse-bench-isolation-"))
    stack.callback(shutil.rmtree, data, ignore_errors=True)
    plugins = [HERE / "plugins" / "server"]
    if stream_filter:  # a directory of its own: a global filter there runs on every request
        (data / "filters").mkdir()
        shutil.copy(HERE / "plugins" / "stream_filter.py", data / "filters")
        plugins.append(data / "filters")
    settings = Settings(plugin_dirs=plugins, admin_key=KEY)
    settings.data_dir = data
    settings.isolation = isolation
    settings.gc_tuning = True  # as `pipehouse serve` runs
    app = create_app(settings)
    await stack.enter_async_context(app.router.lifespan_context(app))
    return app


async def stream(app: App, chunks: int) -> None:
    """POST the streamed request of `chunks` chunks once; exit unless all of them arrived."""
    body = orjson.dumps(
        {
            "model": "bench_stream",
            "stream": True,
            "max_tokens": chunks,
            "messages": [{"role": "user", "content": "hi"}],
        }
    )
    headers = [*HEADERS[:-1], (b"content-length", str(len(body)).encode())]
    sent = bytearray()

    async def send(message: dict[str, Any]) -> None:
        sent.extend(message.get("body", b""))

    await app(chat_scope(headers), receive_once(body), send)
    if sent.count(b"tok ") != chunks or not sent.endswith(b"data: [DONE]\n\n"):
        sys.exit(f"bench: the stream answered wrongly: {bytes(sent[-300:])!r}")


async def drive(app: App, requests: int, concurrency: int, chunks: int = 0) -> None:
    """`requests` requests (streams of `chunks` when given), `concurrency` at a time, checked."""
    left = requests

    async def client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            if chunks:
                await stream(app, chunks)
            else:
                check("pipehouse", await request(app))

    await asyncio.gather(*(client() for _ in range(concurrency)))


USER = {"id": "u-1", "email": "ada@example.com", "name": "Ada", "role": "admin", "info": {}}
METADATA = {"user_id": "u-1", "chat_id": None, "message_id": "m-1", "model": {"id": "bench_ok"}}


async def executor_app(stack: AsyncExitStack, isolation: str) -> App:
    """An 'app' that is the request's two plugin calls on an executor of `isolation`."""
    from pipehouse.runtime.events import NullHost
    from pipehouse.runtime.executor import CallContext, PluginSource
    from pipehouse.runtime.inprocess import InProcessExecutor
    from pipehouse.runtime.workers.executor import ProcessExecutor

    executor: Any = (
        ProcessExecutor(call_timeout=300, idle_timeout=300)
        if isolation == "isolated"
        else InProcessExecutor(call_timeout=300, idle_timeout=300)
    )
    stack.push_async_callback(executor.close)
    for name in ("bench_inlet", "bench_ok"):
        path = HERE / "plugins" / "server" / f"{name}.py"
        await executor.load(PluginSource(name, path.read_text(), str(path)))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        call = CallContext(USER, METADATA, NullHost(), None, None, {"id": "bench_ok"}, None)
        messages = [{"role": "user", "content": "hi"}]
        body = {"model": "bench_ok", "messages": messages, "metadata": METADATA}
        body = await executor.call_filter("bench_inlet", "inlet", body, call)
        result = await executor.call_pipe("bench_ok", {"model": "bench_ok", **body}, call)
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": f'"content":"{result.value}"'.encode()})

    return app


def warm_up(args: argparse.Namespace) -> int:
    """Requests before measuring: caches filled, code specialised (fewer for long streams)."""
    return max(20, 2000 // max(1, args.stream // 50))


async def measure(isolation: str, args: argparse.Namespace) -> list[tuple[float, float, float]]:
    """(server, worker, wall) µs per request, one tuple per run."""
    runs = []
    async with AsyncExitStack() as stack:
        if args.executor:
            app = await executor_app(stack, isolation)
        else:
            app = await build(stack, isolation, args.stream_filter)
        await drive(app, warm_up(args), args.concurrency, args.stream)  # caches filled
        gc.collect()
        workers = children()
        for _ in range(args.repeat):
            server, worker, wall = os.times(), sum(map(cpu_of, workers)), time.perf_counter()
            await drive(app, args.requests, args.concurrency, args.stream)
            done = os.times()
            per = 1e6 / args.requests
            runs.append(
                (
                    (done.user + done.system - server.user - server.system) * per,
                    (sum(map(cpu_of, workers)) - worker) * per,
                    (time.perf_counter() - wall) * per,
                )
            )
    return runs


async def profile(args: argparse.Namespace) -> None:
    output = Path(tempfile.mkdtemp(prefix="pipehouse-bench-profile-")) / "worker.prof"
    if args.profile == "worker":
        profile_workers(output)
    async with AsyncExitStack() as stack:
        app = await build(stack, "isolated", args.stream_filter)
        await drive(app, warm_up(args), args.concurrency, args.stream)
        profiler = cProfile.Profile()
        if args.profile == "server":
            profiler.enable()
        await drive(app, args.requests, args.concurrency, args.stream)
        profiler.disable()
        from pipehouse.api.isolation import supervisor_of

        for worker in list(supervisor_of(app.state.executor).workers):
            worker.writer.close()  # the worker's loop ends and cProfile writes its file
            await worker.wait()
    stats = pstats.Stats(str(output)) if args.profile == "worker" else pstats.Stats(profiler)
    print(f"{args.requests} {what(args)} (after {warm_up(args):,} to warm up), {args.profile}:")
    stats.sort_stats(args.sort).print_stats(args.top)


def what(args: argparse.Namespace) -> str:
    return f"streams of {args.stream:,} chunks" if args.stream else "requests"


def report(results: dict[str, list[tuple[float, float, float]]], args: argparse.Namespace) -> None:
    one = f"one stream of {args.stream:,} chunks" if args.stream else "one non-streamed request"
    print(
        f"{'the executors alone: ' if args.executor else ''}"
        f"{one} (inlet filter + pipe), {args.concurrency} clients, "
        f"{args.requests:,} {what(args)} per run, median of {args.repeat} runs "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    unit = "µs/stream" if args.stream else "µs/request"
    print(f"  {'variant':<9} {'server':>8} {'worker':>8} {'total':>8} {'wall':>8}   ({unit})")
    medians = {}
    for label, runs in results.items():
        server, worker, wall = (statistics.median(run[i] for run in runs) for i in range(3))
        medians[label] = (server, worker)
        total = statistics.median(run[0] + run[1] for run in runs)
        print(f"  {label:<9} {server:>8.1f} {worker:>8.1f} {total:>8.1f} {wall:>8.1f}")
    if len(medians) == 2:
        server = medians["isolated"][0] - medians["inline"][0]
        worker = medians["isolated"][1]
        print(
            f"  isolation adds {server + worker:.0f} {unit} of CPU: {server:.0f} in the "
            f"server, {worker:.0f} in the worker"
        )


async def run(args: argparse.Namespace) -> None:
    logging.getLogger().setLevel(logging.WARNING)
    if args.profile:
        await profile(args)
        return
    results: dict[str, list[tuple[float, float, float]]] = {}
    for label in args.variants.split(","):
        results[label] = await measure(label, args)
    report(results, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5_000, help="requests per run (5000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs; figures are medians (5)")
    parser.add_argument("--concurrency", type=int, default=16, help="clients at once (16)")
    parser.add_argument("--variants", default="inline,isolated", help="inline,isolated")
    parser.add_argument("--cpu", type=int, help="pin to this core (Linux); workers inherit it")
    parser.add_argument("--profile", choices=["server", "worker"], help="cProfile one side")
    parser.add_argument("--executor", action="store_true", help="the executors alone, no app")
    parser.add_argument("--stream", type=int, default=0, help="streams of N chunks instead")
    parser.add_argument(
        "--stream-filter", action="store_true", help="with bench/plugins/stream_filter.py, global"
    )
    parser.add_argument("--sort", default="tottime", help="pstats order (tottime)")
    parser.add_argument("--top", type=int, default=40, help="functions shown by --profile")
    args = parser.parse_args()
    if args.stream and args.executor:
        parser.error("--stream goes through the app; leave out --executor")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    uvloop.run(run(args))


if __name__ == "__main__":
    main()
