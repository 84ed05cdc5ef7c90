"""Environments and worker memory of a whole server: 300 plugins in 10 environments.

    .venv/bin/python bench/environments.py [--plugins 300] [--environments 10] [--keep DIR]

Writes `--plugins` small synthetic pipes, each declaring one of `--environments` requirement
sets of small pure-Python packages (pyfiglet, tabulate, emoji, ... at distinct versions; every
plugin imports its package at the top, as real plugins do), starts `pipehouse serve` on them in
the isolated mode with a fresh data dir and reports:

- cold: seconds from the server's start until it answers, and until every plugin is loaded (the
  environments built by uv in the background, downloads included unless uv's cache has them:
  `UV_CACHE_DIR` is left as it is);
- cached: the same with the server started again on the same data dir (environments reused:
  plugins load during the start, each environment's worker started);
- RSS of the whole server (the server process and every worker below it) once all are loaded
  and idle, and after each plugin was called once, with the number of worker processes.

Needs network access to the package registry for the cold build (or uv's cache).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

KEY = "ph-bench-admin-key-0123456789abcdefghijklmnopqrstuv"
# (requirement, module) pairs: small, pure Python, absent from pipehouse's own environment
SETS = [
    ("pyfiglet==1.0.2", "pyfiglet"),
    ("pyfiglet==0.8.post1", "pyfiglet"),
    ("tabulate==0.9.0", "tabulate"),
    ("tabulate==0.8.10", "tabulate"),
    ("emoji==2.12.1", "emoji"),
    ("emoji==2.10.0", "emoji"),
    ("text-unidecode==1.3", "text_unidecode"),
    ("humanize==4.10.0", "humanize"),
    ("humanize==4.9.0", "humanize"),
    ("isodate==0.7.2", "isodate"),
    ("tomli-w==1.0.0", "tomli_w"),
    ("pyfiglet==0.8.post0", "pyfiglet"),
]

PLUGIN = '''"""
title: Synthetic pipe {n}
requirements: {requirement}
"""

import {module}


class Pipe:
    def pipe(self, body: dict) -> str:
        return "{n} " + {module}.__name__
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def family(root: int) -> list[int]:
    """`root` and every process below it."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def write_plugins(directory: Path, count: int, environments: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        requirement, module = SETS[n % environments]
        text = PLUGIN.format(n=n, requirement=requirement, module=module)
        (directory / f"synthetic_{n:03d}.py").write_text(text)


def serve(data: Path, plugins: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "PIPEHOUSE_ADMIN_KEY": KEY,
        "PIPEHOUSE_DATA_DIR": str(data),
        "PIPEHOUSE_ISOLATION": "isolated",
        "PIPEHOUSE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "pipehouse", "serve", "--port", str(port), "--no-watch"]
    command += ["--plugins", str(plugins)]
    out = log.open("ab")
    return subprocess.Popen(command, env=env, stdout=out, stderr=out), f"http://127.0.0.1:{port}"


def until_loaded(process: subprocess.Popen, base: str, count: int, log: Path) -> float:
    """Wait until every plugin is loaded; when the server first answered (perf_counter)."""
    headers = {"Authorization": f"Bearer {KEY}"}
    answered = None
    while True:
        assert process.poll() is None, f"the server exited; see {log}"
        try:
            reply = httpx.get(f"{base}/api/v1/plugins", headers=headers, timeout=30)
            rows = reply.json() if reply.status_code == 200 else []
            answered = answered or time.perf_counter()
        except httpx.HTTPError:
            rows = []
        states = [row.get("state") for row in rows if row["id"].startswith("synthetic_")]
        failed = [row for row in rows if row.get("state") in ("error", "failed")]
        assert not failed, f"plugins failed: {failed[:2]}"
        if len(states) == count and all(state == "loaded" for state in states):
            return answered or time.perf_counter()
        time.sleep(0.2)


def whole_rss(pid: int) -> tuple[int, int]:
    pids = family(pid)
    return sum(rss(p) for p in pids), len(pids) - 1


def call_each(base: str, count: int) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:

        def one(n: int) -> None:
            body = {"model": f"synthetic_{n:03d}", "messages": [{"role": "user", "content": "hi"}]}
            reply = client.post("/v1/chat/completions", json=body)
            assert reply.status_code == 200, reply.text
            assert reply.json()["choices"][0]["message"]["content"].startswith(f"{n} ")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, range(count)))


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plugins", type=int, default=300)
    parser.add_argument("--environments", type=int, default=10, choices=range(1, len(SETS) + 1))
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="ph-bench-envs-"))
    plugins, data, log = work / "plugins", work / "data", work / "server.log"
    write_plugins(plugins, args.plugins, args.environments)
    print(f"{args.plugins} plugins in {args.environments} environments, isolated mode ({work})")
    try:
        timings = []
        for label in ("cold (environments built)", "cached (environments reused)"):
            started = time.perf_counter()
            process, base = serve(data, plugins, log)
            try:
                answered = until_loaded(process, base, args.plugins, log) - started
                timings.append(time.perf_counter() - started)
                print(
                    f"  {label}: server answering after {answered:.1f} s, all plugins loaded "
                    f"after {timings[-1]:.1f} s"
                )
                if len(timings) == 2:
                    idle, workers = whole_rss(process.pid)
                    print(f"  RSS, idle: {idle / 2**20:.0f} MB ({workers} worker processes)")
                    call_each(base, args.plugins)
                    used, workers = whole_rss(process.pid)
                    print(
                        f"  RSS, after each plugin was called once: {used / 2**20:.0f} MB "
                        f"({workers} worker processes; server alone {rss(process.pid) / 2**20:.0f}"
                        " MB)"
                    )
            finally:
                stop(process)
        print(f"  cold / cached: {timings[0] / timings[1]:.1f}x")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
