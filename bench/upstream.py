"""What pipehouse costs in front of an upstream model server: latency and streaming throughput,
against calling the same mock upstream directly, measured in one run.

    .venv/bin/python bench/upstream.py [--duration 12] [--rounds 3] [--connections 16]
                                       [--chunks 1000]
    .venv/bin/python bench/upstream.py --wrk-core pipehouse   # the other placement of wrk

Processes, all started by this script the way a user starts them, on free loopback ports:
  mock        bench/bare_app.py under uvicorn (one worker): an OpenAI-compatible server listing
              one model, `bench-upstream`, answering "ok" or streaming `max_tokens` chunks.
  pipehouse   `python -m pipehouse serve` with default settings (as bench/server.py starts it:
              API-key auth, request ids, metrics, timeouts, watcher, SQLite, INFO logging), with
              `OPENAI_API_BASE_URL` pointing at the mock, and a temporary plugins directory
              holding only the global inlet filter bench/plugins/server/bench_inlet.py, so the
              filter chain runs around the upstream model as it would in a deployment.
  wrk         the load generator (bench/server.py's Lua script checks every response).

Both paths are asked for the same model, `bench-upstream`: "direct" posts to the mock, "via
pipehouse" to pipehouse, which forwards to the mock. Rows (the two paths take turns, --rounds
times, so load from elsewhere falls on both alike; figures are medians of the rounds):
  a  non-streaming, 1 connection: p50/p99 latency, and the difference (latency pipehouse adds)
  b  a streamed answer of --chunks chunks, 1 connection: the same, to the end of the answer
  c  streaming at --connections connections: chunks/s, and via pipehouse / direct

Pinning (2 cores or more): the mock on the first core, pipehouse on the second. Three busy
processes on two cores cannot all have one to themselves, so wrk goes where it hurts least:
in a direct run on pipehouse's core (idle then), in a run via pipehouse on the mock's core by
default (`--wrk-core mock`: the mock does less per chunk than pipehouse, which parses and
re-encodes every chunk). The direct path thus gets two uncontended cores and the pipehouse path
shares one between the mock and wrk: the ratio in row c leans against pipehouse, and the CPU
columns (and CPU time per request or chunk) show where the time went.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import (  # bench/server.py: the same servers, load generator and checks
    PLUGIN_DIR,
    WRK_LUA,
    Result,
    Row,
    Server,
    check,
    cpu_seconds,
    fmt_ratio,
    free_port,
    pick_loadgen,
    run_load,
    spawn,
    start_bare,
    stop,
    wait_ready,
)

MODEL = "bench-upstream"  # what bench/bare_app.py lists at /v1/models
FILTER = PLUGIN_DIR / "bench_inlet.py"


def start_proxy(tmp: Path, upstream: Server, cpu: int | None) -> Server:
    """pipehouse with default settings in front of `upstream`. PIPEHOUSE_* and OPENAI_* variables
    of the caller's shell are dropped, so that only the mock is configured as an upstream."""
    plugins = tmp / "plugins"
    plugins.mkdir()
    shutil.copy(FILTER, plugins)
    port = free_port()
    admin_key = f"ph-bench-{secrets.token_hex(16)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPEHOUSE_", "OPENAI_"))}
    env.update(
        PIPEHOUSE_ADMIN_KEY=admin_key,
        PYTHONUNBUFFERED="1",
        OPENAI_API_BASE_URL=f"{upstream.url}/v1",
    )
    cmd = [sys.executable, "-m", "pipehouse", "serve", "--plugins", str(plugins)]
    cmd += ["--data-dir", str(tmp / "data"), "--host", "127.0.0.1", "--port", str(port)]
    log = tmp / "pipehouse.log"
    proc = spawn(cmd, log, env, cpu)
    models = {"json": MODEL, "stream": MODEL}
    return Server("pipehouse", "via pipehouse", proc, port, log, f"Bearer {admin_key}", models)


@dataclass
class Side:
    """One path's runs in one row, with the mock's CPU time during each (the mock works in both:
    answering wrk directly, or answering pipehouse)."""

    row: Row
    mock_cpu_s: float

    @property
    def wall_s(self) -> float:
        return sum(max(r.wall_s, r.duration_s) for r in self.row.runs)

    @property
    def server_cpu_s(self) -> float:  # the process wrk called: the mock, or pipehouse
        return sum(r.server_cpu_s for r in self.row.runs)

    @property
    def mock_cpu(self) -> float:  # share of one core
        return self.mock_cpu_s / self.wall_s if self.wall_s else 0.0

    def cpu_us(self, seconds: float, chunks: int) -> float:
        """CPU time per checked request (or chunk, when `chunks`), in microseconds."""
        units = sum(r.ok for r in self.row.runs) * (chunks or 1)
        return seconds / units * 1e6 if units else 0.0


@dataclass
class Measure:
    key: str
    title: str
    mode: str  # json | stream
    connections: int


def measure(
    args: argparse.Namespace,
    gen: str,
    script: Path,
    mock: Server,
    paths: list[Server],
    gen_cpu: dict[str, int | None],
    item: Measure,
) -> dict[str, Side]:
    """One row: the paths take turns `--rounds` times after a warm-up, the mock's CPU time
    counted around every run."""
    segment = max(1, round(args.duration / args.rounds))
    chunks = args.chunks if item.mode == "stream" else 0

    def run(server: Server, seconds: float) -> tuple[Result, float]:
        before = cpu_seconds(mock.proc.pid)
        result = run_load(
            gen, script, server, item.mode, item.connections, seconds, chunks, gen_cpu[server.key]
        )
        return result, cpu_seconds(mock.proc.pid) - before

    if args.warmup > 0:
        for server in paths:
            run(server, args.warmup)
    runs: dict[str, list[tuple[Result, float]]] = {server.key: [] for server in paths}
    for _ in range(args.rounds):
        for server in paths:
            runs[server.key].append(run(server, segment))
    return {
        key: Side(Row([r for r, _ in done]), sum(m for _, m in done)) for key, done in runs.items()
    }


HEADER = (
    f"{'row':<34}{'path':<15}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'chunks/s':>10}"
    f"{'mock CPU':>10}{'ph CPU':>8}{'gen CPU':>9}{'bad':>5}  vs direct"
)


def print_row(item: Measure, sides: dict[str, Side], chunks: int) -> None:
    direct, proxied = sides["mock"], sides["pipehouse"]
    for key, side in sides.items():
        row = side.row
        rate = f"{row.rps * chunks:,.0f}" if item.mode == "stream" else "-"
        ph_cpu = f"{row.server_cpu:.0%}" if key == "pipehouse" else "-"
        versus = ""
        if side is proxied and item.key == "c":
            versus = fmt_ratio(proxied.row.rps / direct.row.rps if direct.row.rps else None)
        elif side is proxied:
            versus = (
                f"{proxied.row.p50_ms - direct.row.p50_ms:+.2f} / "
                f"{proxied.row.p99_ms - direct.row.p99_ms:+.2f} ms"
            )
        title = f"{item.key}  {item.title}" if side is direct else ""
        print(
            f"{title:<34}{'direct' if side is direct else 'via pipehouse':<15}{row.rps:>8,.0f}"
            f"{row.p50_ms:>9.2f}{row.p99_ms:>9.2f}{rate:>10}{side.mock_cpu:>10.0%}{ph_cpu:>8}"
            f"{row.gen_cpu:>9.0%}{row.failures:>5}  {versus}",
            flush=True,
        )


def placement(args: argparse.Namespace) -> tuple[int | None, int | None, dict[str, int | None]]:
    """Cores for the mock, pipehouse, and wrk per path (see the module docstring)."""
    available = sorted(os.sched_getaffinity(0))
    if args.no_pin or len(available) < 2:
        return None, None, {"mock": None, "pipehouse": None}
    mock_core, ph_core = available[0], available[1]
    via = mock_core if args.wrk_core == "mock" else ph_core
    return mock_core, ph_core, {"mock": ph_core, "pipehouse": via}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per path per row")
    parser.add_argument("--rounds", type=int, default=3, help="turns the paths take per row (3)")
    parser.add_argument("--connections", type=int, default=16, help="for row c (16)")
    parser.add_argument("--chunks", type=int, default=1000, help="chunks per stream (1000)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each row (1)")
    parser.add_argument(
        "--loadgen", choices=["auto", "wrk", "python"], default="auto", help="auto: wrk if found"
    )
    parser.add_argument(
        "--wrk-core",
        choices=["mock", "pipehouse"],
        default="mock",
        help="whose core wrk shares in runs via pipehouse (mock)",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    args = parser.parse_args()
    args.rounds = max(1, args.rounds)
    began = time.monotonic()
    gen = pick_loadgen(args.loadgen)
    mock_core, ph_core, gen_cpu = placement(args)
    rows = [
        Measure("a", "non-streaming, 1 connection", "json", 1),
        Measure("b", f"stream of {args.chunks} chunks, 1 conn.", "stream", 1),
        Measure("c", f"streaming, {args.connections} connections", "stream", args.connections),
    ]

    with tempfile.TemporaryDirectory(prefix="pipehouse-bench-upstream-") as name:
        tmp = Path(name)
        script = tmp / "chat.lua"
        script.write_text(WRK_LUA)
        segment = max(1, round(args.duration / args.rounds))
        print(
            f"pipehouse upstream benchmark: Python {platform.python_version()}, "
            f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.2f}); per row "
            f"{args.rounds} rounds of {segment} s per path, taking turns; model {MODEL}"
        )
        if mock_core is None:
            print("no core pinning")
        else:
            print(
                f"mock on core {mock_core}, pipehouse on core {ph_core}; wrk on core "
                f"{gen_cpu['mock']} for direct runs, on core {gen_cpu['pipehouse']} "
                f"(the {args.wrk_core}'s) for runs via pipehouse"
            )
        if gen == "python":
            print("note: Python load generator; it may set the pace (see gen CPU)")
        mock = start_bare(tmp, mock_core)
        mock.key, mock.label = "mock", "direct"
        mock.models = {"json": MODEL, "stream": MODEL}
        proxy = None
        try:
            wait_ready(mock)
            proxy = start_proxy(tmp, mock, ph_core)
            wait_ready(proxy)
            for server in (mock, proxy):
                check(server, args.chunks)
            print(
                "mock: bench/bare_app.py under uvicorn, one worker\n"
                "pipehouse: python -m pipehouse serve (default settings) with "
                "OPENAI_API_BASE_URL=<mock>/v1 and --plugins TMP\n"
                "  holding only the global inlet filter bench_inlet\n"
            )
            print(HEADER)
            results = {}
            for item in rows:
                results[item.key] = measure(args, gen, script, mock, [mock, proxy], gen_cpu, item)
                print_row(item, results[item.key], args.chunks)
        finally:
            for server in (proxy, mock):
                if server is not None:
                    stop(server)
        report(args, results)
        print(f"({time.monotonic() - began:.0f} s; load average {os.getloadavg()[0]:.2f})")


def report(args: argparse.Namespace, results: dict[str, dict[str, Side]]) -> None:
    print(
        "\nreq/s, p50, p99: medians of the rounds, counting only checked responses; p50 and p99 "
        "of a stream are to its last chunk;\nmock/ph/gen CPU: the share of one core the mock, "
        "pipehouse and the load generator got; vs direct: added p50 / p99 latency (rows a, b),\n"
        "chunks/s ratio (row c)."
    )
    failures = sum(side.row.failures for sides in results.values() for side in sides.values())
    print(
        "every response was checked (status 200, the content, every chunk, [DONE]): "
        f"{failures} failed or incomplete"
    )
    c_direct, c_proxied = results["c"]["mock"], results["c"]["pipehouse"]
    chunks = args.chunks
    a, c = results["a"]["pipehouse"], c_proxied
    print(
        "CPU time via pipehouse, per request in row a / per chunk in row c: mock "
        f"{a.cpu_us(a.mock_cpu_s, 0):.0f} / {c.cpu_us(c.mock_cpu_s, chunks):.1f} us, pipehouse "
        f"{a.cpu_us(a.server_cpu_s, 0):.0f} / {c.cpu_us(c.server_cpu_s, chunks):.1f} us"
    )

    def added(key: str) -> str:
        direct, proxied = results[key]["mock"].row, results[key]["pipehouse"].row
        return (
            f"p50 {proxied.p50_ms - direct.p50_ms:+.2f} ms, "
            f"p99 {proxied.p99_ms - direct.p99_ms:+.2f} ms"
        )

    ratio = c_proxied.row.rps / c_direct.row.rps if c_direct.row.rps else None
    print(
        "\nheadline (pipehouse with default settings and a global inlet filter, in front of the "
        "mock upstream):\n"
        f"  added latency, non-streaming: {added('a')}\n"
        f"  added latency, a stream of {chunks} chunks: {added('b')}\n"
        f"  streaming throughput at {args.connections} connections: {fmt_ratio(ratio)} of direct "
        f"({c_proxied.row.rps * chunks:,.0f} vs {c_direct.row.rps * chunks:,.0f} chunks/s)"
    )


if __name__ == "__main__":
    main()
