"""One non-streamed chat request through the ASGI app, in-process: pipehouse against the bare app.

    .venv/bin/python bench/request.py [--requests 20000] [--repeat 5] [--cpu 0]
    .venv/bin/python bench/request.py --profile          # cProfile pipehouse instead

No sockets and no uvicorn: each request is a scope, a `receive` that hands over the body and a
`send` that keeps the messages, awaited one after another on uvloop. What is left is exactly what
the application does per request, so this shows what a change to pipehouse's own path costs
(bench/server.py then shows what that is worth over HTTP, where uvicorn's share is the same for
both servers).

Variants, each built as `pipehouse serve` builds it (SQLite in a temporary directory, auth on,
metrics, timeouts; plugins inline, as server.py's pipehouse row: `isolation.py` measures what
worker processes add) and checked for the right answer before timing:

  bare        bench/bare_app.py, the baseline of bench/server.py
  pipehouse   bench/plugins/server: the pipe `bench_ok` and the global inlet filter `bench_inlet`
  no filter   the same without the inlet filter, so the difference is what one filter call costs

Figures: µs per request, the median of `--repeat` runs (the variants take turns within a run),
and pipehouse's share of the bare app's request rate (bare µs / pipehouse µs).
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

KEY = "sk-bench-request-0123456789abcdef"
BODY = orjson.dumps({"model": "bench_ok", "messages": [{"role": "user", "content": "hi"}]})
HEADERS = [
    (b"host", b"127.0.0.1:8080"),
    (b"content-type", b"application/json"),
    (b"authorization", f"Bearer {KEY}".encode()),
    (b"content-length", str(len(BODY)).encode()),
]
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def chat_scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The ASGI scope uvicorn makes for POST /v1/chat/completions with `headers`."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 50000),
        "method": "POST",
        "root_path": "",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "headers": headers,
    }


def receive_once(body: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    """An ASGI `receive` that hands over `body`, then waits as a client that stays."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()  # never answered
        raise AssertionError

    return receive


async def request(app: App) -> list[dict[str, Any]]:
    """POST /v1/chat/completions once; the messages the app sent."""
    scope = chat_scope(HEADERS)
    receive = receive_once(BODY)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def check(label: str, sent: list[dict[str, Any]]) -> None:
    if sent[0].get("status") != 200 or b'"content":"ok"' not in sent[1].get("body", b""):
        sys.exit(f"bench: {label} answered wrongly: {sent}")


async def pipehouse_app(stack: AsyncExitStack, plugins: Path) -> App:
    from pipehouse.api.app import create_app
    from pipehouse.config import Settings

    data = Path(tempfile.mkdtemp(prefix="pipehouse-bench-"))
    stack.callback(shutil.rmtree, data, ignore_errors=True)
    settings = Settings(plugin_dirs=[plugins], admin_key=KEY)
    settings.data_dir = data
    settings.isolation = "inline"  # pipehouse's own path; isolation.py measures the workers
    app = create_app(settings)
    await stack.enter_async_context(app.router.lifespan_context(app))
    return app


async def run(args: argparse.Namespace) -> None:
    from bare_app import app as bare

    logging.getLogger().setLevel(logging.WARNING)  # serve's default: no access-log line
    only_ok = Path(tempfile.mkdtemp(prefix="pipehouse-bench-plugins-"))
    shutil.copy(HERE / "plugins" / "server" / "bench_ok.py", only_ok)
    async with AsyncExitStack() as stack:
        stack.callback(shutil.rmtree, only_ok, ignore_errors=True)
        variants: dict[str, App] = {
            "bare": bare,
            "pipehouse": await pipehouse_app(stack, HERE / "plugins" / "server"),
            "no filter": await pipehouse_app(stack, only_ok),
        }
        for label, app in variants.items():
            check(label, await request(app))
            for _ in range(2000):  # warm up: caches filled, code specialised
                await request(app)
        gc.collect()
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.requests):
                await request(variants["pipehouse"])
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)
            return
        times: dict[str, list[float]] = {label: [] for label in variants}
        for _ in range(args.repeat):
            for label, app in variants.items():
                started = time.perf_counter()
                for _ in range(args.requests):
                    await request(app)
                times[label].append((time.perf_counter() - started) / args.requests * 1e6)
    report(times, args)


def report(times: dict[str, list[float]], args: argparse.Namespace) -> None:
    median = {label: statistics.median(runs) for label, runs in times.items()}
    print(
        f"one request in-process, {args.requests:,} requests per run, median of {args.repeat} "
        f"runs (load average {os.getloadavg()[0]:.2f})"
    )
    print(f"  {'variant':<10} {'us/request':>10} {'spread':>7} {'vs bare':>8}")
    for label, runs in times.items():
        spread = (max(runs) - min(runs)) / median[label]
        ratio = "" if label == "bare" else f"{median['bare'] / median[label]:.0%}"
        print(f"  {label:<10} {median[label]:>10.1f} {spread:>7.0%} {ratio:>8}")
    print(f"  one inlet filter call: {median['pipehouse'] - median['no filter']:.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per run (20000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs; figures are medians (5)")
    parser.add_argument("--cpu", type=int, help="pin to this core (Linux)")
    parser.add_argument("--profile", action="store_true", help="cProfile pipehouse instead")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    uvloop.run(run(args))


if __name__ == "__main__":
    main()
