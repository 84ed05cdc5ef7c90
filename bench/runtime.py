"""Chunk throughput and plugin load time of the pipehouse runtime, against bare baselines.

    .venv/bin/python bench/runtime.py [--chunks 100000] [--repeat 3] [--loop auto]
    .venv/bin/python bench/runtime.py --profile b      # cProfile one variant instead

Every figure is the median of `--repeat` runs, and every ratio compares with a baseline measured
in the same process, on the same event loop, in the same run (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import inspect
import io
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bare_app import _chunk as bare_chunk  # the baseline server's own encoder

from pipehouse.plugin.info import describe
from pipehouse.plugin.loader import load_plugin
from pipehouse.runtime.catalog import Catalog, CommandLineValves
from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.executor import PluginSource
from pipehouse.runtime.inprocess import InProcessExecutor

HERE = Path(__file__).resolve().parent
PLUGINS = HERE / "plugins"
USER = {"id": "bench-user", "email": "bench@example.com", "name": "Bench", "role": "user"}
MESSAGES = [{"role": "user", "content": "Say something long."}]
TOKEN = "tok "  # the pipes' default TOKEN valve


def source_of(name: str) -> tuple[str, str]:
    path = PLUGINS / f"{name}.py"
    return path.read_text(encoding="utf-8"), str(path)


# -- baselines: the same generators, consumed by the least code any server needs -----------------
async def bare_stream(instance: Any, model: str, n: int, is_async: bool) -> int:
    """Role chunk, one OpenAI chunk per yielded string, finish chunk, [DONE]; bytes produced."""
    body = {"model": model, "messages": MESSAGES, "stream": True, "max_tokens": n}
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    size = len(bare_chunk(cid, created, model, {"role": "assistant", "content": ""}, None))
    if is_async:
        async for text in instance.pipe(body):
            size += len(bare_chunk(cid, created, model, {"content": text}, None))
    else:  # iterated right on the loop: less work than any server that keeps its loop free
        for text in instance.pipe(body):
            size += len(bare_chunk(cid, created, model, {"content": text}, None))
    size += len(bare_chunk(cid, created, model, {}, "stop"))
    return size + len(b"data: [DONE]\n\n")


async def bare_complete(instance: Any, model: str, n: int) -> int:
    """Collect the text, wrap it in one chat.completion, serialise it; bytes produced."""
    body = {"model": model, "messages": MESSAGES, "stream": False, "max_tokens": n}
    parts = [text async for text in instance.pipe(body)]
    completion = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(parts)},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
    }
    return len(orjson.dumps(completion))


# -- the runtime -----------------------------------------------------------------------------------
def server_executor_options() -> dict[str, Any]:
    """The executor `pipehouse serve` builds by default: its call and idle timeouts, an observer."""
    try:
        from pipehouse.config import Settings

        settings = Settings()
        options: dict[str, Any] = {
            "call_timeout": settings.call_timeout,
            "idle_timeout": settings.idle_timeout,
        }
    except Exception:  # no config module (yet): the documented defaults
        options = {"call_timeout": 300.0, "idle_timeout": 300.0}
    if "observer" in inspect.signature(InProcessExecutor).parameters:
        options["observer"] = _observe
    return options


OBSERVED: dict[tuple[str, str], int] = {}


def _observe(plugin_id: str, stage: str, seconds: float, ok: bool) -> None:
    """Stands in for the server's Prometheus observer (one call per plugin call)."""
    OBSERVED[plugin_id, stage] = OBSERVED.get((plugin_id, stage), 0) + 1


class Bench:
    """One runtime per filter set over an executor configured as the server configures it, and
    one runtime over an executor without timeouts (row a0)."""

    async def setup(self) -> None:
        self.options = server_executor_options()
        self.executor = InProcessExecutor(**self.options)
        self.bare_executor = InProcessExecutor()
        self.store = CommandLineValves()
        pipes = [await self._load("bench_async", "async_pipe")]
        pipes.append(await self._load("bench_sync", "sync_pipe"))
        stream_filters = [await self._load(f"stream_{i}", "stream_filter") for i in (1, 2, 3)]
        full_filters = [await self._load(f"full_{i}", "full_filter") for i in (1, 2, 3)]
        for info in full_filters:
            self.store.by_user[(info.id, USER["id"])] = {"enabled": True}
        self.plain = self._runtime(pipes)
        self.streaming = self._runtime(pipes + stream_filters)
        self.full = self._runtime(pipes + full_filters)
        source, path = source_of("async_pipe")
        untimed = await self.bare_executor.load(PluginSource("bench_async", source, path))
        self.untimed = ChatRuntime(self.bare_executor, Catalog(), self.store)
        self.untimed.catalog.add(untimed)
        # The baselines run the very same plugin classes, loaded as plain instances.
        self.bare_async = bare_instance("async_pipe", "bare_async")
        self.bare_sync = bare_instance("sync_pipe", "bare_sync")

    async def _load(self, plugin_id: str, name: str):
        source, path = source_of(name)
        return await self.executor.load(PluginSource(plugin_id, source, path))

    def _runtime(self, infos: list) -> ChatRuntime:
        catalog = Catalog()
        for info in infos:
            catalog.add(info)
        return ChatRuntime(self.executor, catalog, self.store)

    async def close(self) -> None:
        await self.executor.close()
        await self.bare_executor.close()


def bare_instance(name: str, plugin_id: str) -> Any:
    source, path = source_of(name)
    return load_plugin(source, plugin_id, path=path).instance


async def drain(runtime: ChatRuntime, body: dict[str, Any]) -> bytes:
    return await drain_turn(await runtime.start(body, USER))


async def drain_turn(turn: Any) -> bytes:
    return b"".join([part async for part in turn.sse()])


async def stream_size(runtime: ChatRuntime, body: dict[str, Any]) -> int:
    """Drain `turn.sse()` as an HTTP server would: every yielded batch is a write."""
    turn = await runtime.start(body, USER)
    size = 0
    async for part in turn.sse():
        size += len(part)
    return size


async def complete_size(runtime: ChatRuntime, body: dict[str, Any]) -> int:
    turn = await runtime.start(body, USER)
    return len(orjson.dumps(await turn.complete()))


def stream_body(model: str, n: int, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": MESSAGES, "stream": True, "max_tokens": n, **extra}


@dataclass
class Variant:
    key: str
    label: str
    group: str  # "stream" or "complete"
    run: Callable[[int], Awaitable[int]]
    baseline: str | None = None  # key of the baseline this one is compared with
    times: list[float] = field(default_factory=list)  # wall-clock seconds per run
    cpu: list[float] = field(default_factory=list)  # process CPU seconds (all threads) per run


def variants(b: Bench) -> list[Variant]:
    full_extra = {"bench_events": True, "stream_options": {"include_usage": True}}
    return [
        Variant(
            "B1",
            "bare loop over the async pipe",
            "stream",
            lambda n: bare_stream(b.bare_async, "bench_async", n, True),
        ),
        Variant(
            "B2",
            "bare loop over the sync pipe",
            "stream",
            lambda n: bare_stream(b.bare_sync, "bench_sync", n, False),
        ),
        Variant(
            "a",
            "async pipe, no filters",
            "stream",
            lambda n: stream_size(b.plain, stream_body("bench_async", n)),
            "B1",
        ),
        Variant(
            "a0",
            "async pipe, no filters, executor without timeouts",
            "stream",
            lambda n: stream_size(b.untimed, stream_body("bench_async", n)),
            "B1",
        ),
        Variant(
            "b",
            "async pipe, 3 stream filters",
            "stream",
            lambda n: stream_size(b.streaming, stream_body("bench_async", n)),
            "B1",
        ),
        Variant(
            "c",
            "sync pipe (on a thread), no filters",
            "stream",
            lambda n: stream_size(b.plain, stream_body("bench_sync", n)),
            "B2",
        ),
        Variant(
            "d",
            "async pipe, all on: 3 inlet/stream/outlet filters, events, usage",
            "stream",
            lambda n: stream_size(b.full, stream_body("bench_async", n, **full_extra)),
            "B1",
        ),
        Variant(
            "B3",
            "bare loop, one chat.completion",
            "complete",
            lambda n: bare_complete(b.bare_async, "bench_async", n),
        ),
        Variant(
            "e",
            "async pipe, turn.complete() + orjson.dumps",
            "complete",
            lambda n: complete_size(b.plain, {**stream_body("bench_async", n), "stream": False}),
            "B3",
        ),
    ]


async def check(b: Bench, n: int) -> None:
    """Refuse to time a path that gives a wrong answer."""
    cases = [
        (b.plain, stream_body("bench_async", n), False),
        (b.untimed, stream_body("bench_async", n), False),
        (b.streaming, stream_body("bench_async", n), False),
        (b.plain, stream_body("bench_sync", n), False),
        (
            b.full,
            stream_body(
                "bench_async", n, bench_events=True, stream_options={"include_usage": True}
            ),
            True,
        ),
    ]
    for runtime, body, usage in cases:
        raw = await drain(runtime, body)
        events = raw[:-2].split(b"\n\n")
        payloads = [orjson.loads(e[6:]) for e in events[:-1]]
        text = "".join(
            p["choices"][0]["delta"].get("content") or "" for p in payloads if p.get("choices")
        )
        problems = []
        if events[-1] != b"data: [DONE]":
            problems.append("no [DONE] at the end")
        if text != TOKEN * n:
            problems.append(f"{len(text)} characters of content, expected {len(TOKEN) * n}")
        if usage and not any(p.get("usage") for p in payloads):
            problems.append("no usage chunk")
        if problems:
            sys.exit(f"bench: {body['model']} streamed a wrong answer: {'; '.join(problems)}")
    for runtime, hooks in ((b.streaming, {"stream"}), (b.full, {"inlet", "stream", "outlet"})):
        turn = await runtime.start(stream_body("bench_async", n), USER)
        if len([e for e in turn.plan.filters if hooks <= set(e.info.hooks)]) != 3:
            sys.exit(f"bench: expected 3 filters with {sorted(hooks)}, got {turn.filters}")
        await drain_turn(turn)
    turn = await b.plain.start({**stream_body("bench_async", n), "stream": False}, USER)
    content = (await turn.complete())["choices"][0]["message"]["content"]
    if content != TOKEN * n:
        sys.exit("bench: turn.complete() gave a wrong answer")


async def time_once(variant: Variant, n: int) -> None:
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    await variant.run(n)
    variant.times.append(time.perf_counter() - start)
    variant.cpu.append(time.process_time() - cpu)


# -- plugin loading --------------------------------------------------------------------------------
async def load_figures(loads: int) -> dict[str, float]:
    """Median microseconds per load for cold and cached loads, and the parts of a cold load."""
    source, path = source_of("async_pipe")
    executor = InProcessExecutor()
    run = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        await executor.load(PluginSource("bench_load", source, path))  # thread pool warmed up
        cold, cached, loader, describing = [], [], [], []
        for i in range(loads):  # a new id each time: new module, new instance
            source_i = PluginSource(f"bench_cold_{run}_{i}", source, path)
            start = time.perf_counter_ns()
            await executor.load(source_i)
            cold.append(time.perf_counter_ns() - start)
        same = PluginSource("bench_load", source, path)
        for _ in range(loads):
            start = time.perf_counter_ns()
            await executor.load(same)
            cached.append(time.perf_counter_ns() - start)
        for i in range(loads):  # the parts of a cold load, called directly (no thread hop)
            start = time.perf_counter_ns()
            plugin = load_plugin(source, f"bench_direct_{run}_{i}", path=path)
            loader.append(time.perf_counter_ns() - start)
            start = time.perf_counter_ns()
            describe(plugin)
            describing.append(time.perf_counter_ns() - start)
    finally:
        await executor.close()
        for name in [m for m in sys.modules if run in m]:
            del sys.modules[name]
    return {
        "cold": statistics.median(cold) / 1000,
        "load_plugin": statistics.median(loader) / 1000,
        "describe": statistics.median(describing) / 1000,
        "cached": statistics.median(cached) / 1000,
    }


# -- report ----------------------------------------------------------------------------------------
def header(loop_name: str, args: argparse.Namespace, options: dict[str, Any]) -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=HERE.parent, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    version = f"{platform.python_implementation()} {platform.python_version()}"
    pinned = f" (pinned to cpu {args.cpu})" if args.cpu is not None else ""
    lines = [
        "pipehouse runtime benchmark",
        f"  python      {version} ({sys.executable})",
        f"  cpus        {os.cpu_count()}{pinned}   platform {platform.platform(terse=True)}",
        f"  event loop  {loop_name}",
        f"  executor    call_timeout={options.get('call_timeout')} s, "
        f"idle_timeout={options.get('idle_timeout')} s"
        f"{', observer on' if 'observer' in options else ''} (as `pipehouse serve` sets it up)",
        f"  load avg    {' '.join(f'{x:.2f}' for x in os.getloadavg())} (at the end; others "
        "running on the machine skew figures, less so ratios)",
        f"  commit      {commit or '?'}{' + uncommitted changes in src/' if dirty else ''}",
        f"  workload    {args.chunks:,} chunks of {TOKEN!r} per answer; "
        f"median of {args.repeat} runs; {args.loads} loads per run",
    ]
    return "\n".join(lines)


def table(rows: list[list[str]], aligns: str) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def fmt(row: list[str]) -> str:
        cells = [
            c.ljust(w) if a == "<" else c.rjust(w)
            for c, w, a in zip(row, widths, aligns, strict=True)
        ]
        return "  " + "  ".join(cells).rstrip()

    rule = "  " + "  ".join("-" * w for w in widths)
    return "\n".join([fmt(rows[0]), rule, *(fmt(r) for r in rows[1:])])


def spread(times: list[float]) -> str:
    """(slowest - fastest) / median over the runs: how much to trust a figure."""
    if len(times) < 2:
        return "-"
    return f"{(max(times) - min(times)) / statistics.median(times):.0%}"


def report(vs: list[Variant], n: int, load: dict[str, float]) -> str:
    by_key = {v.key: v for v in vs}
    out = []
    for group, title in (("stream", "Streaming: drain turn.sse()"), ("complete", "Non-streaming")):
        rows = [["", "variant", "chunks/s", "us/chunk", "cpu us", "spread", "vs baseline"]]
        for v in (v for v in vs if v.group == group):
            seconds = statistics.median(v.times)
            if v.baseline:
                base = statistics.median(by_key[v.baseline].times)
                ratio = f"{base / seconds:.2f}x {v.baseline}"
            else:
                ratio = "(baseline)"
            row = [
                v.key,
                v.label,
                f"{n / seconds:,.0f}",
                f"{seconds / n * 1e6:.2f}",
                f"{statistics.median(v.cpu) / n * 1e6:.2f}",
                spread(v.times),
                ratio,
            ]
            rows.append(row)
        out += ["", f"{title} ({n:,} chunks)", table(rows, "<<>>>><")]
        if group == "stream":
            out.append(
                "  the baselines do no I/O at all; the 70% streaming target is judged over HTTP "
                "against a bare endpoint (bench/server.py)"
            )
    rows = [
        ["plugin load (bench/plugins/async_pipe.py)", "us/load", "vs cached"],
        ["cold: executor.load(), new id", f"{load['cold']:,.1f}", ""],
        [
            "  of which load_plugin() (parse, compile, exec, init)",
            f"{load['load_plugin']:,.1f}",
            "",
        ],
        ["  of which describe()", f"{load['describe']:,.1f}", ""],
        ["cached: executor.load(), same id and content", f"{load['cached']:,.1f}", "1.00x"],
    ]
    rows[1][2] = f"{load['cold'] / load['cached']:,.0f}x"
    out += ["", "Plugin load (median per load)", table(rows, "<>>")]
    return "\n".join(out)


# -- main ------------------------------------------------------------------------------------------
def new_loop(choice: str) -> tuple[Callable[[], asyncio.AbstractEventLoop], str]:
    if choice in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                sys.exit("bench: uvloop is not installed")
        else:
            return uvloop.new_event_loop, f"uvloop {uvloop.__version__}"
    return asyncio.new_event_loop, "asyncio (default loop)"


async def run_bench(args: argparse.Namespace, loop_name: str) -> None:
    b = Bench()
    await b.setup()
    try:
        vs = variants(b)
        await check(b, min(args.chunks, 1000))
        for v in vs:  # warm-up: first requests allocate, import and fill caches
            await v.run(max(args.chunks // 20, 1))
        if args.profile:
            await profile(vs, args)
            return
        for _ in range(args.repeat):
            for v in vs:  # interleaved, so drift hits every variant alike
                await time_once(v, args.chunks)
    finally:
        await b.close()
    loads = [await load_figures(args.loads) for _ in range(args.repeat)]
    load = {k: statistics.median(f[k] for f in loads) for k in loads[0]}
    print(header(loop_name, args, b.options))
    print(report(vs, args.chunks, load))


async def profile(vs: list[Variant], args: argparse.Namespace) -> None:
    variant = next((v for v in vs if v.key == args.profile), None)
    if variant is None:
        sys.exit(f"bench: no variant {args.profile!r}; pick one of {[v.key for v in vs]}")
    profiler = cProfile.Profile()
    profiler.enable()
    await variant.run(args.chunks)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime")
    stats.print_stats(30)
    print(f"cProfile of {variant.label}, {args.chunks:,} chunks (times inflated by profiling)")
    print(text.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks per answer")
    parser.add_argument("--repeat", type=int, default=3, help="runs; figures are medians")
    parser.add_argument("--loads", type=int, default=200, help="plugin loads timed per run")
    parser.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="event loop; auto picks uvloop when installed, as uvicorn does",
    )
    parser.add_argument("--profile", metavar="VARIANT", help="cProfile one variant (a, b, c, ...)")
    parser.add_argument("--cpu", type=int, help="pin the process to this core (Linux)")
    args = parser.parse_args()
    if args.chunks < 1 or args.repeat < 1 or args.loads < 1:
        parser.error("--chunks, --repeat and --loads must be positive")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    factory, loop_name = new_loop(args.loop)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(run_bench(args, loop_name))


if __name__ == "__main__":
    main()
