"""Which async HTTP client reads an OpenAI-compatible upstream fastest: the choice behind
pipehouse's upstream client (src/pipehouse/upstream/client.py), measured in one run.

    .venv/bin/python bench/clients.py [--requests 2000] [--streams 300] [--chunks 100]
                                      [--connections 1,16] [--rounds 3]

The mock upstream is bench/bare_app.py under uvicorn (one worker, pinned to the first core);
this process, pinned to the second, drives each client in turn (`--rounds` times, interleaved,
median of the rounds) doing what a proxy does: POST a chat body, read the JSON answer
(non-streamed), or read a streamed answer of `--chunks` chunks and split it into SSE `data`
payloads with pipehouse's own parser (so every client pays the same for SSE; `httpx+sse` uses
httpx-sse's parser instead). Columns: requests/s and CPU µs per request of this process (the
client's own cost, which is what a proxy pays), and the ratio to httpx as pipehouse had it.

Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpcore
import httpx
import httpx_sse
import orjson
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import start_bare, stop, wait_ready  # bench/server.py's process handling

from pipehouse.upstream.sse import SSEParser

MODEL = "bench-upstream"


def body(stream: bool, chunks: int) -> bytes:
    return orjson.dumps(
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": "hi"}],
            "stream": stream,
            "max_tokens": chunks,
        }
    )


Call = Callable[[bool], Awaitable[int]]  # stream? -> chunks (or 1) read


async def make_httpx(url: str, chunks: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=None))
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}

    async def call(stream: bool) -> int:
        data = body(stream, chunks)
        if not stream:
            response = await client.post(url, content=data, headers=headers)
            orjson.loads(response.content)
            return 1
        parser, count = SSEParser(), 0
        async with client.stream("POST", url, content=data, headers=headers) as response:
            async for piece in response.aiter_raw():
                count += len(parser.feed(piece))
        return count

    return call, client.aclose


async def make_httpx_sse(url: str, chunks: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=None))
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}

    async def call(stream: bool) -> int:
        data = body(stream, chunks)
        if not stream:
            response = await client.post(url, content=data, headers=headers)
            orjson.loads(response.content)
            return 1
        count = 0
        async with httpx_sse.aconnect_sse(
            client, "POST", url, content=data, headers=headers
        ) as source:
            async for _event in source.aiter_sse():
                count += 1
        return count

    return call, client.aclose


async def make_httpcore(url: str, chunks: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    pool = httpcore.AsyncConnectionPool(max_connections=None)
    headers = [(b"Content-Type", b"application/json"), (b"Authorization", b"Bearer sk-bench")]

    async def call(stream: bool) -> int:
        data = body(stream, chunks)
        if not stream:
            response = await pool.request("POST", url, headers=headers, content=data)
            orjson.loads(response.content)
            return 1
        parser, count = SSEParser(), 0
        async with pool.stream("POST", url, headers=headers, content=data) as response:
            async for piece in response.aiter_stream():
                count += len(parser.feed(piece))
        return count

    return call, pool.aclose


async def make_aiohttp(url: str, chunks: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
    )
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}

    async def call(stream: bool) -> int:
        data = body(stream, chunks)
        async with session.post(url, data=data, headers=headers) as response:
            if not stream:
                orjson.loads(await response.read())
                return 1
            parser, count = SSEParser(), 0
            async for piece in response.content.iter_any():
                count += len(parser.feed(piece))
            return count

    return call, session.close


CLIENTS = {
    "httpx": make_httpx,
    "httpx+sse": make_httpx_sse,
    "httpcore": make_httpcore,
    "aiohttp": make_aiohttp,
}


async def timed(call: Call, stream: bool, total: int, connections: int) -> tuple[float, float]:
    """(requests/s, CPU µs per request) for `total` requests over `connections` at a time."""
    left = total

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call(stream)

    for _ in range(connections):  # warm the pool: one connection per worker
        await call(stream)
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return total / wall, cpu / total * 1e6


async def run(args: argparse.Namespace, url: str) -> None:
    made = {name: await make(url, args.chunks) for name, make in CLIENTS.items()}
    for name, (call, _) in made.items():  # each reads the right answer before timing
        assert await call(False) == 1, name
        assert await call(True) == args.chunks + 3, name  # role, text, finish, [DONE]
    print(f"{'mode':<28}{'client':<12}{'req/s':>9}{'cpu us/req':>12}{'vs httpx':>10}")
    for connections in args.connections:
        for stream in (False, True):
            total = args.streams if stream else args.requests
            figures: dict[str, list[tuple[float, float]]] = {name: [] for name in made}
            for _ in range(args.rounds):
                for name, (call, _) in made.items():
                    figures[name].append(await timed(call, stream, total, connections))
            mode = f"{'stream ' + str(args.chunks) if stream else 'json'}, {connections} conn."
            base = statistics.median(c for _, c in figures["httpx"])
            for name, runs in figures.items():
                rate = statistics.median(r for r, _ in runs)
                cpu = statistics.median(c for _, c in runs)
                print(f"{mode:<28}{name:<12}{rate:>9,.0f}{cpu:>12,.0f}{base / cpu:>9.2f}x")
                mode = ""
    for _, close in made.values():
        await close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--chunks", type=int, default=100)
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    cores = sorted(os.sched_getaffinity(0))
    mock_core = cores[0] if len(cores) > 1 else None
    if len(cores) > 1:
        os.sched_setaffinity(0, {cores[1]})
    print(
        f"clients: load average {os.getloadavg()[0]:.2f}; aiohttp {aiohttp.__version__}, "
        f"httpx {httpx.__version__}, httpcore {httpcore.__version__}, "
        f"httpx-sse {getattr(httpx_sse, '__version__', '?')}; medians of {args.rounds} rounds"
    )
    with tempfile.TemporaryDirectory() as tmp:
        mock = start_bare(Path(tmp), mock_core)
        try:
            wait_ready(mock)
            uvloop.run(run(args, f"{mock.url}/v1/chat/completions"))
        finally:
            stop(mock)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
