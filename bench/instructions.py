"""What each proxy path costs per request in machine instructions, counted by valgrind's
callgrind: a figure that a busy or shared machine does not move.

    .venv/bin/python bench/instructions.py [--duration 6] [--chunks 100]
                                           [--paths bare,pipehouse,filter]

bench/upstream.py times the paths under wrk; on a machine whose neighbours come and go its
figures move by tens of percent from one run to the next, too much to tell whether a change of
a few percent paid. Here each proxy runs under `valgrind --tool=callgrind` (started with
instrumentation off, so that it starts in seconds), in front of the same mock as in
bench/upstream.py and with the same settings (`upstream.start_proxy`, `start_bare_proxy`).
For each mode it is warmed up, its counters are zeroed, wrk sends one connection's requests
for `--duration` seconds (every response checked, as bench/server.py checks them), and the
counters are dumped: instructions per checked request (per stream of `--chunks` chunks), and
the bare proxy's count as a share of each path's, the instruction-count twin of upstream.py's
"per CPU-s" column. Counts repeat within about 1% from run to run (background timers such as
the loop-lag monitor are counted too, and spread over however many requests valgrind's
slowness lets through). They count user-space instructions only: the kernel's work (system
calls, which a proxy writing every network read apart makes many more of) and cache misses show
only in time, so for streams read them beside bench/upstream.py's figures, not instead.

Needs valgrind (`callgrind_control` included) and wrk. Pinning: the mock and wrk on the first
core, the proxy under valgrind on the second.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/server.py's servers, load generator and checks; bench/upstream.py's proxies
from server import WRK_LUA, Server, check, run_load, start_bare, stop, wait_ready
from upstream import STREAM_FILTER, start_bare_proxy, start_proxy

LABELS = {"bare": "bare proxy", "pipehouse": "pipehouse", "filter": "+filter"}
MODES = {"json": "non-streamed", "stream": "stream"}


def callgrind(out: Path) -> tuple[str, ...]:
    return (
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",  # interpreted at full speed until `callgrind_control -i on`
        f"--callgrind-out-file={out}.%p",
    )


def control(pid: int, *flags: str) -> None:
    subprocess.run(["callgrind_control", *flags, str(pid)], check=True, capture_output=True)


def dumped_instructions(out: Path, pid: int, part: int, timeout: float = 60.0) -> int:
    """The `totals:` of callgrind's `part`th dump of `pid` (written by `callgrind_control -d`)."""
    path = Path(f"{out}.{pid}.{part}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            found = re.search(r"^totals:\s*(\d+)", path.read_text(), re.MULTILINE)
            if found:
                return int(found.group(1))
        time.sleep(0.1)
    raise SystemExit(f"bench: callgrind wrote no dump {path} in {timeout:.0f} s")


def measure(
    server: Server, out: Path, args: argparse.Namespace, script: Path, cpu: int | None
) -> dict[str, float]:
    """Instructions per checked request (a whole stream for a streamed one), per mode."""
    pid = server.proc.pid
    control(pid, "-i", "on")
    counts: dict[str, float] = {}
    for part, mode in enumerate(MODES, start=1):
        chunks = args.chunks if mode == "stream" else 0
        run_load("wrk", script, server, mode, 1, args.warmup, chunks, cpu)
        control(pid, "-z")
        result = run_load("wrk", script, server, mode, 1, args.duration, chunks, cpu)
        control(pid, "-d")
        if result.bad or not result.ok:
            raise SystemExit(f"bench: {server.label}: {result.bad} of {result.requests} failed")
        counts[mode] = dumped_instructions(out, pid, part) / result.ok
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per mode (6)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each (2)")
    parser.add_argument("--chunks", type=int, default=100, help="chunks per stream (100)")
    parser.add_argument("--paths", default=",".join(LABELS), help="comma-separated (all)")
    args = parser.parse_args()
    missing = [tool for tool in ("valgrind", "callgrind_control", "wrk") if not shutil.which(tool)]
    if missing:
        raise SystemExit(
            f"bench: needs {', '.join(missing)} (Debian: apt-get install valgrind wrk)"
        )
    paths = [key for key in args.paths.split(",") if key]
    if unknown := set(paths) - set(LABELS):
        raise SystemExit(f"bench: unknown paths {sorted(unknown)}; known: {', '.join(LABELS)}")
    cores = sorted(os.sched_getaffinity(0))
    mock_cpu, proxy_cpu = (cores[0], cores[1]) if len(cores) > 1 else (None, None)
    started = time.perf_counter()
    print(
        f"pipehouse instruction counts: Python {platform.python_version()}, "
        f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.2f}); per path and mode "
        f"{args.warmup:g} s of warm-up, then {args.duration:g} s at 1 connection under callgrind; "
        f"streams of {args.chunks} chunks",
        flush=True,
    )
    counts: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="pipehouse-instructions-") as name:
        tmp = Path(name)
        script = tmp / "check.lua"
        script.write_text(WRK_LUA)
        mock = start_bare(tmp, mock_cpu)
        try:
            wait_ready(mock)
            for key in paths:
                out = tmp / f"callgrind-{key}"
                prefix = callgrind(out)
                if key == "bare":
                    server = start_bare_proxy(tmp, mock, proxy_cpu, prefix)
                else:
                    plugins = [STREAM_FILTER] if key == "filter" else []
                    server = start_proxy(tmp, mock, proxy_cpu, key, LABELS[key], plugins, prefix)
                try:
                    wait_ready(server, timeout=300.0)
                    check(server, args.chunks)
                    counts[key] = measure(server, out, args, script, mock_cpu)
                finally:
                    stop(server)
                print(f"  measured {LABELS[key]}", flush=True)
        finally:
            stop(mock)
    report(counts, args.chunks)
    print(f"({time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f})")


def report(counts: dict[str, dict[str, float]], chunks: int) -> None:
    bare = counts.get("bare")
    print(f"{'path':<12}{'mode':<14}{'instructions':>14}{'per chunk':>11}{'bare/this':>11}")
    for key, by_mode in counts.items():
        for mode, count in by_mode.items():
            per_chunk = f"{count / chunks:>11,.0f}" if mode == "stream" else f"{'-':>11}"
            share = f"{bare[mode] / count:>11.0%}" if bare and key != "bare" else f"{'':>11}"
            print(f"{LABELS[key]:<12}{MODES[mode]:<14}{count:>14,.0f}{per_chunk}{share}")


if __name__ == "__main__":
    main()
