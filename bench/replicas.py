"""Two replicas on one PostgreSQL database and one Redis, under 1,000 concurrent streams.

    .venv/bin/python bench/replicas.py [--streams 1000] [--chunks 20] [--events 5000] [--changes 10]

Starts two `pipehouse serve` processes (a fresh PostgreSQL database, a Redis key prefix of
their own, `bench/plugins/server`), then opens `--streams` streamed chat completions at once,
alternating between the replicas (a round-robin client, as a load balancer would), and reports:
errors (goal 0), time to first byte (p50, p99), and each replica's RSS after the run.

Before the streams: how soon a change made on one replica is served by the other (goal 1 s). A
pipe whose valve is its answer's first word is created and switched on through replica A; then
`--changes` times each, its valves and then its code are changed through A, and replica B is
asked (every 10 ms) until it answers with the change: the time from A's reply to B's first
changed answer.

Then, in this process, the cost of one event through the side channel: `emit` with one
subscriber on the in-memory channel and on the Redis channel (publish, then delivery), as a
ratio measured in the same run.

Needs PostgreSQL (PIPEHOUSE_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test)
and Redis (PIPEHOUSE_TEST_REDIS_URL, default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get(
    "PIPEHOUSE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("PIPEHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BATCH = 500
KEY = "ph-bench-admin-key-0123456789abcdefghijklmnopqrstuv"
GREETER = '''"""
title: Bench greeter
description: Answers with its valve's greeting (bench/replicas.py, changes across replicas).
"""

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        GREETING: str = "Hello"

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        return f"{self.valves.GREETING} (code 0)"
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def database(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def start_replicas(url: str, prefix: str, tmp: Path) -> list[tuple[subprocess.Popen, str]]:
    replicas = []
    for name in ("a", "b"):
        port = free_port()
        env = {
            **os.environ,
            "PIPEHOUSE_DATABASE_URL": url,
            "PIPEHOUSE_REDIS_URL": REDIS,
            "PIPEHOUSE_REDIS_PREFIX": prefix,
            "PIPEHOUSE_ADMIN_KEY": KEY,
            "PIPEHOUSE_DATA_DIR": str(tmp / name),
            "PIPEHOUSE_LOG_LEVEL": "WARNING",
        }
        command = [
            sys.executable,
            "-m",
            "pipehouse",
            "serve",
            "--port",
            str(port),
            "--no-watch",
            "--plugins",
            str(ROOT / "bench" / "plugins" / "server"),
        ]
        log = (tmp / f"{name}.log").open("wb")
        replicas.append(
            (subprocess.Popen(command, env=env, stdout=log, stderr=log), f"http://127.0.0.1:{port}")
        )
    for process, base in replicas:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"replica {base} exited; see {tmp}"
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"replica {base} not ready"
            time.sleep(0.2)
    return replicas


async def streams(bases: list[str], count: int, chunks: int) -> tuple[int, list[float]]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    headers = {"Authorization": f"Bearer {KEY}"}
    body = {
        "model": "bench_stream",
        "stream": True,
        "max_tokens": chunks,
        "messages": [{"role": "user", "content": "hi"}],
    }
    errors = 0
    first_bytes: list[float] = []
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=120) as client:

        async def one(index: int) -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                url = f"{bases[index % len(bases)]}/v1/chat/completions"
                async with client.stream("POST", url, json=body) as response:
                    if response.status_code != 200:
                        errors += 1
                        return
                    seen_first, done = False, False
                    async for line in response.aiter_lines():
                        if not seen_first and line:
                            first_bytes.append(time.perf_counter() - started)
                            seen_first = True
                        done = done or line == "data: [DONE]"
                    errors += not done
            except httpx.HTTPError:
                errors += 1

        await asyncio.gather(*(one(i) for i in range(count)))
    return errors, first_bytes


def propagation(bases: list[str], changes: int) -> dict[str, list[float]]:
    """Seconds from a change's reply on the first replica to the second serving it."""
    headers = {"Authorization": f"Bearer {KEY}"}
    a, b = (httpx.Client(base_url=base, headers=headers) for base in bases)
    body = {"model": "bench_greeter", "messages": [{"role": "user", "content": "hi"}]}

    def seen_on_b(expected: str) -> float:
        started = time.perf_counter()
        while True:
            reply = b.post("/v1/chat/completions", json=body, timeout=30)
            if reply.status_code == 200:
                if reply.json()["choices"][0]["message"]["content"] == expected:
                    return time.perf_counter() - started
            elif reply.status_code != 404:
                reply.raise_for_status()
            if time.perf_counter() - started > 60:
                sys.exit(f"bench: replica B did not serve {expected!r} within 60 s")
            time.sleep(0.01)

    form = {"id": "bench_greeter", "name": "Bench greeter", "content": GREETER, "meta": {}}
    a.post("/api/v1/functions/create", json=form).raise_for_status()
    a.post("/api/v1/functions/id/bench_greeter/toggle").raise_for_status()
    seen = {"created": [seen_on_b("Hello (code 0)")], "valves": [], "code": []}
    for n in range(1, changes + 1):
        url = "/api/v1/functions/id/bench_greeter/valves/update"
        a.post(url, json={"GREETING": f"Hi{n}"}).raise_for_status()
        seen["valves"].append(seen_on_b(f"Hi{n} (code 0)"))
    for n in range(1, changes + 1):
        form["content"] = GREETER.replace("(code 0)", f"(code {n})")
        a.post("/api/v1/functions/id/bench_greeter/update", json=form).raise_for_status()
        seen["code"].append(seen_on_b(f"Hi{changes} (code {n})"))
    a.close()
    b.close()
    return seen


async def channel_cost(events: int) -> tuple[float, float]:
    """Microseconds per event, in memory and through Redis, one subscriber each."""
    from pipehouse.runtime.event_channel import MemoryEventChannel
    from pipehouse.runtime.redis_bus import RedisBus
    from pipehouse.runtime.redis_channel import RedisEventChannel

    event = {"type": "status", "data": {"description": "tick", "done": False}}

    async def run(channel, remote) -> float:
        async with remote.subscribe("u") as subscription:
            started = time.perf_counter()
            for _ in range(events // BATCH):  # within the subscriber's queue limit
                for _ in range(BATCH):
                    await channel.emit("u", None, None, event)
                for _ in range(BATCH):
                    assert await subscription.next(10) is not None
            return (time.perf_counter() - started) / (events // BATCH * BATCH) * 1e6

    memory = MemoryEventChannel()
    in_memory = await run(memory, memory)
    prefix = f"phbench-{uuid.uuid4().hex[:8]}"
    sender_bus, receiver_bus = RedisBus(REDIS, prefix), RedisBus(REDIS, prefix)
    sender, receiver = RedisEventChannel(sender_bus), RedisEventChannel(receiver_bus)
    await sender_bus.start()
    await receiver_bus.start()
    try:
        through_redis = await run(sender, receiver)  # published on one, delivered by the other
    finally:
        await sender_bus.close()
        await receiver_bus.close()
    return in_memory, through_redis


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--changes", type=int, default=10)
    args = parser.parse_args()

    name = f"ph_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(database(f'CREATE DATABASE "{name}"'))
    url = f"{POSTGRES.rsplit('/', 1)[0]}/{name}"
    tmp = Path(f"/tmp/{name}")
    tmp.mkdir()
    replicas = start_replicas(url, f"phbench-{name}", tmp)
    try:
        bases = [base for _, base in replicas]
        for what, seconds in propagation(bases, args.changes).items():
            print(
                f"a change made on replica a, served by b ({what}, {len(seconds)}): "
                f"median {statistics.median(seconds):.2f} s, most {max(seconds):.2f} s "
                f"(goal 1 s)"
            )
        asyncio.run(streams(bases, 20, args.chunks))  # warm up
        started = time.perf_counter()
        errors, first = asyncio.run(streams(bases, args.streams, args.chunks))
        elapsed = time.perf_counter() - started
        first.sort()
        p99 = first[int(len(first) * 0.99) - 1] if first else float("nan")
        print(
            f"{args.streams} concurrent streams of {args.chunks} chunks over 2 replicas: "
            f"{elapsed:.1f} s, errors {errors}"
        )
        print(
            f"time to first byte: p50 {statistics.median(first) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms"
        )
        for (process, base), label in zip(replicas, "ab", strict=True):
            print(f"replica {label} RSS after the run: {rss_mib(process.pid):.0f} MiB ({base})")
    finally:
        for process, _ in replicas:
            process.terminate()
            process.wait(30)
        asyncio.run(database(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    in_memory, through_redis = asyncio.run(channel_cost(args.events))
    print(
        f"one event, one subscriber: in memory {in_memory:.1f} us, through Redis "
        f"{through_redis:.1f} us, ratio {through_redis / in_memory:.0f}x"
    )


if __name__ == "__main__":
    main()
