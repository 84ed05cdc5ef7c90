"""What pipehouse costs in front of an upstream model server, against a bare proxy doing the
same I/O and against calling the upstream directly, measured in one interleaved run.

    .venv/bin/python bench/upstream.py [--duration 12] [--rounds 3] [--connections 1,16]
                                       [--chunks 100]

Processes, all started by this script the way a user starts them, on free loopback ports:
  mock        bench/bare_app.py under uvicorn (one worker): an OpenAI-compatible server listing
              one model, `bench-upstream`, answering "ok" or streaming `max_tokens` chunks.
  bare proxy  bench/bare_proxy.py under uvicorn: raw ASGI + aiohttp, forwarding the body and
              the upstream's answer (a stream piece by piece) and nothing else: the baseline.
  pipehouse   `python -m pipehouse serve` with default settings (as bench/server.py starts it:
              API-key auth, request ids, metrics, timeouts, watcher, SQLite, INFO logging), with
              `OPENAI_API_BASE_URL` pointing at the mock and an empty plugins directory.
  +filter     the same with one global stream filter (bench/plugins/stream_filter.py, a
              `stream` hook handing every chunk back), run inline (PIPEHOUSE_ISOLATION=inline),
              so every chunk is parsed and handed to plugin code.
  wrk         the load generator (bench/server.py's Lua script checks every response).

Every path is asked for the same model, `bench-upstream`. For each mode (non-streamed, a stream
of --chunks chunks) and each --connections count, the paths take turns --rounds times; figures
are medians of the rounds. Printed: req/s (chunks/s), p50/p99, CPU shares, failures, each
proxy's rate as a share of the bare proxy's (the goals: pipehouse >= 60%, +filter >= 50%), and
at 1 connection the p50 each proxy adds over direct (goals: <= 0.5 ms non-streamed, <= 1.5 ms
for a 100-chunk stream).

Pinning (2 cores or more): the mock on the first core, every proxy on the second (one runs at a
time). wrk goes on the second core for direct runs (idle then) and on the mock's core for runs
through a proxy, the same for all proxies, so their ratio is fair; the direct path has two
uncontended cores, which leans against every proxy alike.
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
STREAM_FILTER = Path(__file__).resolve().parent / "plugins" / "stream_filter.py"
HERE = Path(__file__).resolve().parent
RATE_GOAL = {"pipehouse": 0.60, "filter": 0.50}  # share of the bare proxy's requests/s
ADDED_P50_GOAL_MS = {"json": 0.5, "stream": 1.5}  # over direct, at 1 connection


def start_proxy(
    tmp: Path,
    upstream: Server,
    cpu: int | None,
    key: str,
    label: str,
    plugins: list[Path],
    prefix: tuple[str, ...] = (),
) -> Server:
    """pipehouse with default settings in front of `upstream`. PIPEHOUSE_* and OPENAI_* variables
    of the caller's shell are dropped, so that only the mock is configured as an upstream.
    `prefix`: a command it runs under (bench/instructions.py's valgrind)."""
    directory = tmp / f"plugins-{key}"
    directory.mkdir()
    for plugin in plugins:
        shutil.copy(plugin, directory)
    port = free_port()
    admin_key = f"ph-bench-{secrets.token_hex(16)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPEHOUSE_", "OPENAI_"))}
    env.update(
        PIPEHOUSE_ADMIN_KEY=admin_key,
        PYTHONUNBUFFERED="1",
        OPENAI_API_BASE_URL=f"{upstream.url}/v1",
    )
    if plugins:
        env["PIPEHOUSE_ISOLATION"] = "inline"
    cmd = [*prefix, sys.executable, "-m", "pipehouse", "serve", "--plugins", str(directory)]
    cmd += ["--data-dir", str(tmp / f"data-{key}"), "--host", "127.0.0.1", "--port", str(port)]
    log = tmp / f"{key}.log"
    proc = spawn(cmd, log, env, cpu)
    models = {"json": MODEL, "stream": MODEL}
    return Server(key, label, proc, port, log, f"Bearer {admin_key}", models)


def start_bare_proxy(
    tmp: Path, upstream: Server, cpu: int | None, prefix: tuple[str, ...] = ()
) -> Server:
    port = free_port()
    cmd = [*prefix, sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "bare_proxy:app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    cmd += ["--no-access-log"]
    env = {**os.environ, "UPSTREAM_URL": f"{upstream.url}/v1"}
    proc = spawn(cmd, tmp / "bare-proxy.log", env, cpu)
    models = {"json": MODEL, "stream": MODEL}
    return Server("bare", "bare proxy", proc, port, tmp / "bare-proxy.log", models=models)


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
    f"{'row':<30}{'path':<14}{'req/s':>8}{'chunks/s':>10}{'p50 ms':>8}{'p99 ms':>8}"
    f"{'mock CPU':>9}{'srv CPU':>8}{'gen CPU':>8}{'bad':>5}  vs bare (rate, per CPU-s), p50 added"
)


def print_row(item: Measure, sides: dict[str, Side], chunks: int) -> None:
    direct, bare = sides["mock"].row, sides["bare"].row
    for key, side in sides.items():
        row = side.row
        rate = f"{row.rps * chunks:,.0f}" if item.mode == "stream" else "-"
        srv = f"{row.server_cpu:.0%}" if key != "mock" else "-"
        versus = ""
        if key != "mock":
            share = fmt_ratio(row.rps / bare.rps if bare.rps else None)
            per_cpu = fmt_ratio(
                row.per_cpu_second / bare.per_cpu_second if bare.per_cpu_second else None
            )
            shares = f"{share:>6} {per_cpu:>6}" if key != "bare" else " " * 13
            versus = f"{shares}  {row.p50_ms - direct.p50_ms:+.2f} ms"
        title = f"{item.key}  {item.title}" if key == "mock" else ""
        print(
            f"{title:<30}{LABELS[key]:<14}{row.rps:>8,.0f}{rate:>10}{row.p50_ms:>8.2f}"
            f"{row.p99_ms:>8.2f}{side.mock_cpu:>9.0%}{srv:>8}{row.gen_cpu:>8.0%}"
            f"{row.failures:>5}  {versus}",
            flush=True,
        )


LABELS = {"mock": "direct", "bare": "bare proxy", "pipehouse": "pipehouse", "filter": "+filter"}


def placement(args: argparse.Namespace) -> tuple[int | None, int | None, dict[str, int | None]]:
    """Cores for the mock, the proxies, and wrk per path (see the module docstring)."""
    available = sorted(os.sched_getaffinity(0))
    if args.no_pin or len(available) < 2:
        return None, None, dict.fromkeys(LABELS)
    mock_core, proxy_core = available[0], available[1]
    gen = dict.fromkeys(LABELS, mock_core)
    gen["mock"] = proxy_core
    return mock_core, proxy_core, gen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per path per row")
    parser.add_argument("--rounds", type=int, default=3, help="turns the paths take per row (3)")
    parser.add_argument("--connections", default="1,16", help="comma-separated (1,16)")
    parser.add_argument("--chunks", type=int, default=100, help="chunks per stream (100)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each row (1)")
    parser.add_argument(
        "--loadgen", choices=["auto", "wrk", "python"], default="auto", help="auto: wrk if found"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    args = parser.parse_args()
    args.rounds = max(1, args.rounds)
    began = time.monotonic()
    gen = pick_loadgen(args.loadgen)
    mock_core, proxy_core, gen_cpu = placement(args)
    rows = []
    for connections in [int(c) for c in args.connections.split(",")]:
        rows.append(
            Measure(f"json{connections}", f"non-streamed, {connections} conn.", "json", connections)
        )
        rows.append(
            Measure(
                f"stream{connections}",
                f"{args.chunks} chunks, {connections} conn.",
                "stream",
                connections,
            )
        )

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
                f"mock on core {mock_core}, proxies on core {proxy_core}; wrk on core "
                f"{gen_cpu['mock']} for direct runs, on core {gen_cpu['bare']} through a proxy"
            )
        if gen == "python":
            print("note: Python load generator; it may set the pace (see gen CPU)")
        mock = start_bare(tmp, mock_core)
        mock.key, mock.label = "mock", "direct"
        mock.models = {"json": MODEL, "stream": MODEL}
        servers = [mock]
        try:
            wait_ready(mock)
            servers.append(start_bare_proxy(tmp, mock, proxy_core))
            servers.append(start_proxy(tmp, mock, proxy_core, "pipehouse", "pipehouse", []))
            servers.append(start_proxy(tmp, mock, proxy_core, "filter", "+filter", [STREAM_FILTER]))
            for server in servers:
                wait_ready(server)
                check(server, args.chunks)
            print(HEADER)
            results = {}
            for item in rows:
                results[item.key] = measure(args, gen, script, mock, servers, gen_cpu, item)
                print_row(item, results[item.key], args.chunks)
        finally:
            for server in reversed(servers):
                stop(server)
        report(args, rows, results)
        print(f"({time.monotonic() - began:.0f} s; load average {os.getloadavg()[0]:.2f})")


def report(
    args: argparse.Namespace, rows: list[Measure], results: dict[str, dict[str, Side]]
) -> None:
    print(
        "\nreq/s, p50, p99: medians of the rounds, counting only checked responses; p50 and p99 "
        "of a stream are to its last chunk;\nmock/srv/gen CPU: the share of one core the mock, "
        "the path's server and the load generator got."
    )
    failures = sum(side.row.failures for sides in results.values() for side in sides.values())
    print(
        "every response was checked (status 200, the content, every chunk, [DONE]): "
        f"{failures} failed or incomplete"
    )
    print("\ngoals (shares of the bare proxy's rate in the same rows; p50 added over direct):")
    for key in ("pipehouse", "filter"):
        shares = {
            item.key: results[item.key][key].row.rps / results[item.key]["bare"].row.rps
            for item in rows
            if results[item.key]["bare"].row.rps
        }
        worst = min(shares.values()) if shares else 0.0
        verdict = "PASS" if worst >= RATE_GOAL[key] else "FAIL"
        listed = ", ".join(f"{row} {share:.0%}" for row, share in shares.items())
        goal = RATE_GOAL[key]
        print(f"  {LABELS[key]:<10} worst {worst:.0%} (goal {goal:.0%}): {verdict}  [{listed}]")
        per_cpu = {
            item.key: results[item.key][key].row.per_cpu_second
            / results[item.key]["bare"].row.per_cpu_second
            for item in rows
            if results[item.key]["bare"].row.per_cpu_second
        }
        listed = ", ".join(f"{row} {share:.0%}" for row, share in per_cpu.items())
        print(f"  {'':<10} per CPU-second of each server: [{listed}]")
    for item in rows:
        if item.connections != 1:
            continue
        direct = results[item.key]["mock"].row.p50_ms
        goal = ADDED_P50_GOAL_MS[item.mode]
        for key in ("bare", "pipehouse", "filter"):
            added = results[item.key][key].row.p50_ms - direct
            verdict = "PASS" if added <= goal else "FAIL"
            verdict = verdict if key == "pipehouse" else "(for scale)"
            print(
                f"  p50 added, {item.title:<24} {LABELS[key]:<10} {added:+.2f} ms "
                f"(goal <= {goal} ms for pipehouse) {verdict}"
            )
    pipehouse = [results[item.key]["pipehouse"] for item in rows if item.mode == "stream"]
    if pipehouse:
        side = pipehouse[-1]
        print(
            f"pipehouse CPU per streamed chunk at {rows[-1].connections} connections: "
            f"{side.cpu_us(side.server_cpu_s, args.chunks):.1f} us"
        )


if __name__ == "__main__":
    main()
