"""The proxy path's CPU time per request, in-process: pipehouse and the bare proxy as ASGI apps,
each in front of the mock upstream over real HTTP, driven without a server in front of them.

    .venv/bin/python bench/upstream_inprocess.py [--mode stream] [--concurrency 1]
                                                 [--requests 2000] [--repeat 3] [--chunks 100]
    .venv/bin/python bench/upstream_inprocess.py --mode json --profile   # cProfile pipehouse

bench/upstream.py measures the whole path over HTTP under wrk, where a busy machine moves the
figures by tens of percent. Here the mock (bench/bare_app.py under uvicorn) runs pinned to one
core and this process to another, and what is counted is this process's own CPU time
(`time.process_time`) per request: what the proxy's side of the exchange costs, aiohttp's
reading of the upstream included, uvicorn's writing to a client excluded. `--concurrency` runs
that many requests at once, so that more of a stream arrives per network read, as at 16
connections.

Variants, checked for the right answer before timing:

  bare       bench/bare_proxy.py: forwards the body and the upstream's answer, nothing else
  pipehouse  `create_app` with the mock as its one upstream, auth on, no plugins
  +filter    the same with bench/plugins/stream_filter.py, inline

Figures: CPU µs per request, the median and the best of `--repeat` runs (the variants take turns
within a run); on a busy machine the best is the steadier (other processes only ever add to a
run's CPU time, through shared caches and cores), and the ratio to the bare proxy uses it.
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
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import orjson
import uvloop

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from request import chat_scope, receive_once  # noqa: E402  (bench/request.py's ASGI pieces)
from server import start_bare, stop, wait_ready  # noqa: E402  (bench/server.py's processes)

KEY = "sk-bench-upstream-0123456789abcdef"
MODEL = "bench-upstream"
TOKEN_FRAME = b'"content":"tok "'
STREAM_FILTER = HERE / "plugins" / "stream_filter.py"
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def body(mode: str, chunks: int) -> bytes:
    request: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Say ok."}],
        "stream": mode == "stream",
    }
    if mode == "stream":
        request["max_tokens"] = chunks
    return orjson.dumps(request)


async def request(app: App, content: bytes) -> bytes:
    """POST /v1/chat/completions once; the response's body."""
    headers = [
        (b"host", b"127.0.0.1:8080"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {KEY}".encode()),
        (b"content-length", str(len(content)).encode()),
    ]
    scope = chat_scope(headers)
    receive = receive_once(content)
    parts: list[bytes] = []
    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        else:
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    if status != [200]:
        raise SystemExit(f"bench: answered {status}: {b''.join(parts)[:300]!r}")
    return b"".join(parts)


def check(label: str, answer: bytes, mode: str, chunks: int) -> None:
    if mode == "json":
        ok = b'"content":"ok"' in answer
    else:
        ok = answer.count(TOKEN_FRAME) == chunks and answer.endswith(b"data: [DONE]\n\n")
    if not ok:
        raise SystemExit(f"bench: {label} answered wrongly: {answer[:300]!r}")


async def pipehouse_app(stack: AsyncExitStack, upstream: str, plugins: list[Path]) -> App:
    from pipehouse.api.app import create_app
    from pipehouse.config import Settings

    data = Path(tempfile.mkdtemp(prefix="pipehouse-bench-"))
    stack.callback(shutil.rmtree, data, ignore_errors=True)
    directory = data / "plugins"
    directory.mkdir()
    for plugin in plugins:
        shutil.copy(plugin, directory)
    settings = Settings(
        plugin_dirs=[directory],
        admin_key=KEY,
        upstreams=[upstream],
        isolation="inline",
        watch=False,
    )
    settings.data_dir = data
    app = create_app(settings)
    await stack.enter_async_context(app.router.lifespan_context(app))
    return app


async def run(args: argparse.Namespace, upstream: str) -> None:
    os.environ["UPSTREAM_URL"] = upstream
    import bare_proxy

    logging.getLogger().setLevel(logging.WARNING)  # serve's default: no access-log line
    content = body(args.mode, args.chunks)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(close_bare_session)
        variants: dict[str, App] = {
            "bare": bare_proxy.app,
            "pipehouse": await pipehouse_app(stack, upstream, []),
            "+filter": await pipehouse_app(
                stack, upstream, [HERE / "plugins" / "stream_filter.py"]
            ),
        }

        async def batch(app: App, count: int) -> None:
            """`count` requests, `--concurrency` at a time."""
            for _ in range(count // args.concurrency):
                await asyncio.gather(*(request(app, content) for _ in range(args.concurrency)))

        for label, app in variants.items():
            check(label, await request(app, content), args.mode, args.chunks)
            await batch(app, max(args.concurrency, args.requests // 10))  # warm up
        gc.collect()
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            await batch(variants["pipehouse"], args.requests)
            profile.disable()
            pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
            return
        times: dict[str, list[float]] = {label: [] for label in variants}
        for _ in range(args.repeat):
            for label, app in variants.items():
                started = time.process_time()
                await batch(app, args.requests)
                times[label].append((time.process_time() - started) / args.requests * 1e6)
    report(times, args)


async def close_bare_session() -> None:
    """What the bare proxy's lifespan would do at shutdown (no server runs it here)."""
    import bare_proxy

    if bare_proxy._session is not None:
        await bare_proxy._session.close()


def report(times: dict[str, list[float]], args: argparse.Namespace) -> None:
    median = {label: statistics.median(runs) for label, runs in times.items()}
    best = {label: min(runs) for label, runs in times.items()}
    unit = f"stream of {args.chunks} chunks" if args.mode == "stream" else "non-streamed request"
    print(
        f"CPU time of the proxy's process per {unit}, {args.concurrency} at a time, "
        f"{args.requests:,} per run, {args.repeat} runs (load average {os.getloadavg()[0]:.2f})"
    )
    print(
        f"  {'variant':<10} {'median us':>10} {'best us':>9} {'spread':>7} {'bare/this':>9}"
        + (f" {'best us/chunk':>14}" if args.mode == "stream" else "")
    )
    for label, runs in times.items():
        spread = (max(runs) - min(runs)) / median[label]
        ratio = "" if label == "bare" else f"{best['bare'] / best[label]:.0%}"
        chunk = f" {best[label] / args.chunks:>14.2f}" if args.mode == "stream" else ""
        print(
            f"  {label:<10} {median[label]:>10.1f} {best[label]:>9.1f} {spread:>7.0%} "
            f"{ratio:>9}{chunk}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["json", "stream"], default="stream")
    parser.add_argument("--concurrency", type=int, default=1, help="requests at once (1)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per run (2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; figures are medians (3)")
    parser.add_argument("--chunks", type=int, default=100, help="chunks per stream (100)")
    parser.add_argument("--profile", action="store_true", help="cProfile pipehouse instead")
    parser.add_argument("--top", type=int, default=35, help="functions --profile lists (35)")
    parser.add_argument("--sort", default="tottime", help="--profile's order (tottime)")
    args = parser.parse_args()
    args.concurrency = max(1, args.concurrency)
    args.requests = max(args.concurrency, args.requests)
    cores = sorted(os.sched_getaffinity(0))
    mock_core = cores[0] if len(cores) > 1 else None
    if mock_core is not None:
        os.sched_setaffinity(0, {cores[1]})
    with tempfile.TemporaryDirectory(prefix="pipehouse-bench-inprocess-") as name:
        mock = start_bare(Path(name), mock_core)
        try:
            wait_ready(mock)
            uvloop.run(run(args, f"{mock.url}/v1"))
        finally:
            stop(mock)


if __name__ == "__main__":
    main()
