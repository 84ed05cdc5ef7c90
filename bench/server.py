"""HTTP throughput of a pipehouse server against a bare Starlette endpoint, measured in one run.

    .venv/bin/python bench/server.py [--duration 10] [--connections 16,64]
    .venv/bin/python bench/server.py --profile /tmp/ph-profile   # py-spy both servers instead
    .venv/bin/python bench/server.py --pipehouse-env PIPEHOUSE_IDLE_TIMEOUT=off   # try a setting

Each server is its own process (uvicorn, one worker, uvloop + httptools as `uvicorn[standard]`
installs them) on a free loopback port, pinned to one core; the load generator runs in another
process pinned to the other core: `wrk` when it is installed (a small Lua script posts the body
and checks every response), else a Python asyncio client (which may saturate before the server:
its CPU use is printed, and a note says so).

Servers:
  bare        bench/bare_app.py: reads the JSON body, answers the same OpenAI JSON or SSE frames
              (one yield per chunk), nothing else.
  pipehouse   `python -m pipehouse serve --plugins bench/plugins/server`, default settings:
              API-key auth (Bearer, PIPEHOUSE_ADMIN_KEY), request ids, Prometheus metrics, the
              global filter bench_inlet (an inlet with valves), call and idle timeouts, the
              plugin directory watcher, SQLite store, logging at INFO without access lines.
  +access log the same with `--access-log`: one access-log line per request, written to a
              file (skip with --no-access-log-row).
  isolated    the same with PIPEHOUSE_ISOLATION=isolated: the plugins run in a worker
              process (docs/isolation.md); the rows above run them inline, so the ratio
              isolated / pipehouse is the cost of isolation (skip with --no-isolated-row).

Rows: non-streaming (`bench_ok` returns "ok") and streaming (`bench_stream` yields --chunks
small chunks), at each --connections. Ratios compare pipehouse with bare in the same row;
targets: requests/s >= 50% of bare, streamed chunks/s >= 70% of bare; isolated against inline:
requests/s >= 60%, chunks/s >= 80%. After the rows, the resident memory of the isolated
server's worker processes.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PLUGIN_DIR = HERE / "plugins" / "server"
PATH = "/v1/chat/completions"
TOKEN = "tok "
STREAM_NEEDLE = '"content":"' + TOKEN  # once per text chunk, in pipehouse's frames and bare's
OK_NEEDLE = '"content":"ok"'
DONE = "data: [DONE]\n\n"
REQUEST_TARGET = 0.50
ISOLATED_REQUEST_GOAL = 0.60  # isolated vs inline, requests/s (issue 14)
ISOLATED_STREAM_GOAL = 0.80  # isolated vs inline, streamed chunks/s
STREAM_TARGET = 0.70
HZ = os.sysconf("SC_CLK_TCK")

WRK_LUA = r"""
-- POST the body from BENCH_BODY; check every response (status 200, the expected content,
-- BENCH_EXPECT text chunks and a final [DONE] for streams); report JSON from done().
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH") or ""
if auth ~= "" then wrk.headers["Authorization"] = auth end
local expect = tonumber(os.getenv("BENCH_EXPECT"))
local needle = os.getenv("BENCH_NEEDLE")
local done_frame = "data: [DONE]\n\n"

local threads = {}
function setup(thread) table.insert(threads, thread) end

ok, bad, chunks, bytes = 0, 0, 0, 0
function response(status, headers, body)
  bytes = bytes + #body
  if status ~= 200 then bad = bad + 1 return end
  if expect == 0 then
    if string.find(body, needle, 1, true) then ok = ok + 1 else bad = bad + 1 end
    return
  end
  local n, pos = 0, 1
  while true do
    local s, e = string.find(body, needle, pos, true)
    if not s then break end
    n = n + 1
    pos = e + 1
  end
  chunks = chunks + n
  if n == expect and string.sub(body, -#done_frame) == done_frame then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local o, b, c, by = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); b = b + t:get("bad"); c = c + t:get("chunks"); by = by + t:get("bytes")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_s":%f,"p50_ms":%f,"p99_ms":%f,"max_ms":%f,' ..
    '"ok":%d,"bad":%d,"chunks":%d,"body_bytes":%d,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, o, b, c, by,
    e.connect + e.read + e.write + e.timeout))
end
"""


# -- servers ------------------------------------------------------------------------------------
@dataclass
class Server:
    key: str  # bare | pipehouse | access
    label: str
    proc: subprocess.Popen
    port: int
    log: Path
    auth: str = ""
    models: dict[str, str] = field(default_factory=dict)  # mode -> model id

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc): the isolated server's workers."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                found.append(int(entry.name))
    return found


def resident_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(cpu: int | None):
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def spawn(cmd: list[str], log: Path, env: dict[str, str], cpu: int | None) -> subprocess.Popen:
    out = log.open("wb")
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=pinned(cpu),
        start_new_session=True,
    )


def start_pipehouse(
    tmp: Path,
    key: str,
    label: str,
    access_log: bool,
    cpu: int | None,
    extra_env: dict[str, str] | None = None,
    isolation: str = "inline",
) -> Server:
    """Defaults for everything but the admin key: PIPEHOUSE_* variables of the caller's shell are
    dropped, then `extra_env` (--pipehouse-env) applied."""
    port = free_port()
    admin_key = f"ph-bench-{secrets.token_hex(16)}"
    data = tmp / f"data-{key}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEHOUSE_")}
    env["PIPEHOUSE_ISOLATION"] = isolation
    env.update(extra_env or {})
    env.update(PIPEHOUSE_ADMIN_KEY=admin_key, PYTHONUNBUFFERED="1")
    cmd = [
        sys.executable,
        "-m",
        "pipehouse",
        "serve",
        "--plugins",
        str(PLUGIN_DIR),
        "--data-dir",
        str(data),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *(["--access-log"] if access_log else []),
    ]
    log = tmp / f"{key}.log"
    proc = spawn(cmd, log, env, cpu)
    return Server(
        key,
        label,
        proc,
        port,
        log,
        auth=f"Bearer {admin_key}",
        models={"json": "bench_ok", "stream": "bench_stream"},
    )


def start_bare(tmp: Path, cpu: int | None) -> Server:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(HERE),
        "bare_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    log = tmp / "bare.log"
    proc = spawn(cmd, log, dict(os.environ), cpu)
    return Server(
        "bare", "bare starlette", proc, port, log, models={"json": "bench", "stream": "bench"}
    )


def stop(server: Server) -> None:
    if server.proc.poll() is not None:
        return
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


def log_tail(server: Server, lines: int = 30) -> str:
    try:
        text = server.log.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def request_body(server: Server, mode: str, chunks: int) -> bytes:
    body: dict[str, Any] = {
        "model": server.models[mode],
        "messages": [{"role": "user", "content": "Say ok."}],
        "stream": mode == "stream",
    }
    if mode == "stream":
        body["max_tokens"] = chunks
    return json.dumps(body, separators=(",", ":")).encode()


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"{server.label} exited at start:\n{log_tail(server)}")
        try:
            if httpx.get(server.url + "/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    tail = log_tail(server)
    raise SystemExit(f"{server.label} did not answer /health in {timeout:.0f} s:\n{tail}")


def check(server: Server, chunks: int) -> None:
    """One request of each kind, checked the way the load generator checks them."""
    import httpx

    headers = {"Content-Type": "application/json"}
    if server.auth:
        headers["Authorization"] = server.auth
    with httpx.Client(base_url=server.url, timeout=30.0, headers=headers) as client:
        answer = client.post(PATH, content=request_body(server, "json", chunks))
        if answer.status_code != 200 or answer.json()["choices"][0]["message"]["content"] != "ok":
            raise SystemExit(f"{server.label}: unexpected {answer.status_code}: {answer.text}")
        streamed = client.post(PATH, content=request_body(server, "stream", chunks)).text
        if streamed.count(STREAM_NEEDLE) != chunks or not streamed.endswith(DONE):
            raise SystemExit(f"{server.label}: incomplete stream:\n{streamed[-500:]}")
        if (
            server.auth
            and client.post(
                PATH, content=request_body(server, "json", chunks), headers={"Authorization": ""}
            ).status_code
            != 401
        ):
            raise SystemExit(f"{server.label}: a request without a key was not refused")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def server_tree_cpu(pid: int) -> float:
    """CPU time of a server and of its worker processes (the isolated server's plugins run
    there: its cost per request is both). A worker gone meanwhile is left out."""
    total = cpu_seconds(pid)
    for child in children(pid):
        with contextlib.suppress(OSError):
            total += cpu_seconds(child)
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- load generators ----------------------------------------------------------------------------
@dataclass
class Result:
    """One load-generator run."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    ok: int
    bad: int
    chunks: int
    errors: int
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    gen_cpu_s: float = 0.0

    @property
    def ok_rps(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0


@dataclass
class Row:
    """Several interleaved runs of one server in one table row: medians of rates and latencies,
    totals of CPU time, and every failure."""

    runs: list[Result]

    @staticmethod
    def _median(values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    @property
    def rps(self) -> float:  # completed and checked responses per second
        return self._median([r.ok_rps for r in self.runs])

    @property
    def p50_ms(self) -> float:
        return self._median([r.p50_ms for r in self.runs])

    @property
    def p99_ms(self) -> float:
        return self._median([r.p99_ms for r in self.runs])

    @property
    def failures(self) -> int:
        return sum(r.bad + r.errors for r in self.runs)

    @property
    def server_cpu(self) -> float:  # share of one core the server got
        wall = sum(max(r.wall_s, r.duration_s) for r in self.runs)
        return sum(r.server_cpu_s for r in self.runs) / wall if wall else 0.0

    @property
    def gen_cpu(self) -> float:
        wall = sum(max(r.wall_s, r.duration_s) for r in self.runs)
        return sum(r.gen_cpu_s for r in self.runs) / wall if wall else 0.0

    @property
    def per_cpu_second(self) -> float:  # checked responses per second of server CPU time
        used = sum(r.server_cpu_s for r in self.runs)
        return sum(r.ok for r in self.runs) / used if used else 0.0


def load_env(server: Server, mode: str, chunks: int) -> dict[str, str]:
    return {
        **os.environ,
        "BENCH_BODY": request_body(server, mode, chunks).decode(),
        "BENCH_AUTH": server.auth,
        "BENCH_EXPECT": str(chunks if mode == "stream" else 0),
        "BENCH_NEEDLE": STREAM_NEEDLE if mode == "stream" else OK_NEEDLE,
    }


def wrk_command(script: Path, server: Server, connections: int, duration: float) -> list[str]:
    return [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        server.url + PATH,
    ]


def python_command(server: Server, connections: int, duration: float) -> list[str]:
    spec = {"port": server.port, "path": PATH, "connections": connections, "duration": duration}
    return [sys.executable, str(Path(__file__).resolve()), "--_loadgen", json.dumps(spec)]


def run_load(
    gen: str,
    script: Path,
    server: Server,
    mode: str,
    connections: int,
    duration: float,
    chunks: int,
    cpu: int | None,
) -> Result:
    if gen == "wrk":
        cmd = wrk_command(script, server, connections, duration)
    else:
        cmd = python_command(server, connections, duration)
    server_before = server_tree_cpu(server.proc.pid)
    gen_before = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        cmd,
        env=load_env(server, mode, chunks),
        capture_output=True,
        text=True,
        preexec_fn=pinned(cpu),
        timeout=duration + 120,
    )
    wall = time.perf_counter() - started
    server_used = server_tree_cpu(server.proc.pid) - server_before
    gen_used = children_cpu() - gen_before
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(
            f"load generator failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n"
            f"{server.label} log:\n{log_tail(server)}"
        )
    raw = json.loads(line.split(" ", 1)[1])
    result = Result(
        requests=raw["requests"],
        duration_s=raw["duration_s"],
        p50_ms=raw["p50_ms"],
        p99_ms=raw["p99_ms"],
        ok=raw["ok"],
        bad=raw["bad"],
        chunks=raw["chunks"],
        errors=raw["errors"],
    )
    result.wall_s = wall
    result.server_cpu_s = server_used
    result.gen_cpu_s = gen_used
    return result


# -- the Python fallback load generator (runs as its own process) -------------------------------
async def _one_connection(
    spec: dict[str, Any], request: bytes, stop_at: float, stats: dict[str, Any]
) -> None:
    expect, needle = stats["expect"], stats["needle"]
    reader, writer = await asyncio.open_connection("127.0.0.1", spec["port"])
    latencies = stats["latencies"]
    try:
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            writer.write(request)
            status = int((await reader.readline()).split()[1])
            length, chunked = -1, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:
                parts = []
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        await reader.readline()
                        break
                    parts.append((await reader.readexactly(size + 2))[:-2])
                body = b"".join(parts)
            else:
                body = await reader.readexactly(max(length, 0))
            latencies.append(time.perf_counter() - began)
            stats["requests"] += 1
            if status != 200:
                stats["bad"] += 1
            elif expect == 0:
                stats["ok" if needle in body else "bad"] += 1
            else:
                count = body.count(needle)
                stats["chunks"] += count
                complete = count == expect and body.endswith(DONE.encode())
                stats["ok" if complete else "bad"] += 1
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
        stats["errors"] += 1
    finally:
        writer.close()


async def _python_load(spec: dict[str, Any]) -> dict[str, Any]:
    body = os.environ["BENCH_BODY"].encode()
    auth = os.environ.get("BENCH_AUTH", "")
    head = (
        f"POST {spec['path']} HTTP/1.1\r\nHost: 127.0.0.1:{spec['port']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        + (f"Authorization: {auth}\r\n" if auth else "")
        + "\r\n"
    )
    stats: dict[str, Any] = collections.defaultdict(int)
    stats["latencies"] = []
    stats["expect"] = int(os.environ["BENCH_EXPECT"])
    stats["needle"] = os.environ["BENCH_NEEDLE"].encode()
    started = time.perf_counter()
    stop_at = started + spec["duration"]
    await asyncio.gather(
        *(
            _one_connection(spec, head.encode() + body, stop_at, stats)
            for _ in range(spec["connections"])
        )
    )
    elapsed = time.perf_counter() - started
    latencies = sorted(stats["latencies"]) or [0.0]

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {
        "requests": stats["requests"],
        "duration_s": elapsed,
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "max_ms": latencies[-1] * 1000,
        "ok": stats["ok"],
        "bad": stats["bad"],
        "chunks": stats["chunks"],
        "errors": stats["errors"],
    }


def python_loadgen_main(raw: str) -> None:
    spec = json.loads(raw)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    print("BENCH_RESULT " + json.dumps(runner(_python_load(spec))), flush=True)


# -- profiling ----------------------------------------------------------------------------------
_FRAME = re.compile(r"^(?P<fn>.+?) \((?P<file>.+?)(?::\d+)?\)$")


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['fn']} ({path})"


def summarize_profile(raw: Path, top: int, seconds_per_sample: float, units: float) -> str:
    """Self and inclusive time by function from py-spy's collapsed stacks, as a share of the
    samples and as microseconds per unit (request or chunk)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [_short(f) for f in stack.split(";")]
        total += samples
        if frames:
            own[frames[-1]] += samples
        for name in set(frames):
            inclusive[name] += samples
    if not total:
        return "    (no samples)"

    def line(name: str, n: int) -> str:
        micros = n * seconds_per_sample / units * 1e6 if units else 0.0
        return f"      {100 * n / total:5.1f}% {micros:8.2f} us  {name}"

    lines = [
        f"    {total} samples with the GIL held = {total * seconds_per_sample / units * 1e6:.2f} us"
        " per unit; self time:"
    ]
    lines += [line(name, n) for name, n in own.most_common(top)]
    lines.append("    inclusive time (frames under 99%):")
    below = [(name, n) for name, n in inclusive.most_common() if n < 0.99 * total]
    lines += [line(name, n) for name, n in below[:top]]
    return "\n".join(lines)


def profile(args: argparse.Namespace, gen: str, script: Path, tmp: Path) -> None:
    """py-spy (`--gil`: samples while a thread holds the GIL, i.e. Python CPU time) of each
    server under load; collapsed stacks are kept in DIR for flame graphs (speedscope.app)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("--profile needs py-spy (e.g. `.venv/bin/pip install py-spy`)")
    out = Path(args.profile)
    out.mkdir(parents=True, exist_ok=True)
    server_cpu, gen_cpu = cpus(args)
    servers = [
        start_bare(tmp, server_cpu),
        start_pipehouse(tmp, "pipehouse", "pipehouse", False, server_cpu, args.env),
    ]
    connections = args.connections[0]
    seconds = max(1, round(args.duration))
    rate = 250
    try:
        for server in servers:
            wait_ready(server)
            check(server, args.chunks)
        for mode in ("json", "stream"):
            for server in servers:
                run_load(gen, script, server, mode, connections, 1, args.chunks, gen_cpu)
                raw = out / f"{server.key}-{mode}.txt"
                command = [spy, "record", "--pid", str(server.proc.pid), "--rate", str(rate)]
                command += ["--duration", str(seconds), "--gil", "--format", "raw"]
                spy_proc = subprocess.Popen(
                    [*command, "--output", str(raw)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                result = run_load(
                    gen, script, server, mode, connections, seconds + 1, args.chunks, gen_cpu
                )
                spy_proc.wait(60)
                unit = "request" if mode == "json" else "chunk"
                units = result.ok_rps * seconds * (args.chunks if mode == "stream" else 1)
                print(
                    f"\n{server.label}, {MODES[mode]}, {connections} connections, under py-spy: "
                    f"{result.ok_rps:,.0f} {'requests' if mode == 'json' else 'streams'}/s; "
                    f"unit: one {unit}; {raw}"
                )
                print(summarize_profile(raw, args.top, 1 / rate, units), flush=True)
    finally:
        for server in servers:
            stop(server)


# -- the report ---------------------------------------------------------------------------------
MODES = {"json": "non-streaming", "stream": "streaming"}


def pick_loadgen(choice: str) -> str:
    """`wrk` when asked for or found (auto), else the Python client."""
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if choice == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --loadgen python")
    return choice


def cpus(args: argparse.Namespace) -> tuple[int | None, int | None]:
    available = sorted(os.sched_getaffinity(0))
    if args.no_pin or len(available) < 2:
        return None, None
    return available[0], available[1]


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


HEADER = (
    f"{'mode':<14}{'conns':>6}  {'server':<16}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
    f"{'chunks/s':>10}{'srv CPU':>9}{'per CPU-s':>11}{'gen CPU':>9}{'bad':>5}"
    f"{'vs bare':>9}{'per CPU-s':>11}"
)


def print_row(mode: str, connections: int, label: str, row: Row, bare: Row | None, chunks: int):
    """`per CPU-s` is requests (or chunks) per second of server CPU time: the rate one core
    would reach if nothing else ran on it."""
    scale = chunks if mode == "stream" else 1
    chunk_rate = f"{row.rps * chunks:,.0f}" if mode == "stream" else "-"
    ratio = efficiency = None
    if bare is not None and bare is not row:
        ratio = row.rps / bare.rps if bare.rps else None
        efficiency = row.per_cpu_second / bare.per_cpu_second if bare.per_cpu_second else None
    print(
        f"{MODES[mode]:<14}{connections:>6}  {label:<16}{row.rps:>9,.0f}{row.p50_ms:>9.1f}"
        f"{row.p99_ms:>9.1f}{chunk_rate:>10}{row.server_cpu:>9.0%}"
        f"{row.per_cpu_second * scale:>11,.0f}{row.gen_cpu:>9.0%}{row.failures:>5}"
        f"{fmt_ratio(ratio):>9}{fmt_ratio(efficiency):>11}",
        flush=True,
    )


def measure(
    args: argparse.Namespace,
    gen: str,
    script: Path,
    servers: list[Server],
    cpu: int | None,
) -> dict[tuple[str, int, str], Row]:
    """Every row; the servers of a row take turns, `--rounds` times, so that load from other
    processes on the machine falls on all of them alike."""
    segment = max(1, round(args.duration / args.rounds))
    rows: dict[tuple[str, int, str], Row] = {}
    for mode in ("json", "stream"):
        for connections in args.connections:
            if args.warmup > 0:
                for server in servers:
                    run_load(gen, script, server, mode, connections, args.warmup, args.chunks, cpu)
            runs: dict[str, list[Result]] = {server.key: [] for server in servers}
            for _ in range(args.rounds):
                for server in servers:
                    runs[server.key].append(
                        run_load(gen, script, server, mode, connections, segment, args.chunks, cpu)
                    )
            for server in servers:
                rows[(mode, connections, server.key)] = Row(runs[server.key])
                bare = rows.get((mode, connections, "bare"))
                print_row(
                    mode,
                    connections,
                    server.label,
                    rows[(mode, connections, server.key)],
                    bare,
                    args.chunks,
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per row (10)")
    parser.add_argument(
        "--connections",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[16, 64],
        help="comma-separated connection counts (16,64)",
    )
    parser.add_argument("--chunks", type=int, default=1000, help="chunks per stream (1000)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="turns the servers take within a row (3)"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each row (1)")
    parser.add_argument(
        "--loadgen", choices=["auto", "wrk", "python"], default="auto", help="auto: wrk if found"
    )
    parser.add_argument(
        "--no-access-log-row", action="store_true", help="skip pipehouse with --access-log"
    )
    parser.add_argument(
        "--no-isolated-row", action="store_true", help="skip pipehouse with isolated plugins"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    parser.add_argument(
        "--profile", metavar="DIR", help="py-spy the pipehouse server instead (needs py-spy)"
    )
    parser.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    parser.add_argument(
        "--pipehouse-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the pipehouse servers (repeatable)",
    )
    parser.add_argument("--_loadgen", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._loadgen:
        python_loadgen_main(args._loadgen)
        return
    args.rounds = max(1, args.rounds)
    args.env = dict(item.split("=", 1) for item in args.pipehouse_env)

    began = time.monotonic()
    gen = pick_loadgen(args.loadgen)
    server_cpu, gen_cpu = cpus(args)

    with tempfile.TemporaryDirectory(prefix="pipehouse-bench-") as name:
        tmp = Path(name)
        script = tmp / "chat.lua"
        script.write_text(WRK_LUA)
        if args.profile:
            profile(args, gen, script, tmp)
            return
        segment = max(1, round(args.duration / args.rounds))
        print(
            f"pipehouse server benchmark: Python {platform.python_version()}, "
            f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.2f}); per row "
            f"{args.rounds} rounds of {segment} s per server, taking turns; "
            f"{args.chunks} chunks per stream"
        )
        pin_text = (
            f"servers on core {server_cpu}, load generator on core {gen_cpu}"
            if server_cpu is not None
            else "no core pinning"
        )
        gen_text = "wrk -t1 (Lua checks every response)" if gen == "wrk" else "Python asyncio"
        print(f"load generator: {gen_text}; {pin_text}")
        if gen == "python":
            why = "wrk not found" if args.loadgen == "auto" else "--loadgen python"
            print(
                f"note: {why}; a Python client can saturate before the server does, so "
                "'gen CPU' near 100% means the figures are the client's limit (lower bounds)"
            )
        servers = [start_bare(tmp, server_cpu)]
        servers.append(start_pipehouse(tmp, "pipehouse", "pipehouse", False, server_cpu, args.env))
        if not args.no_access_log_row:
            servers.append(
                start_pipehouse(tmp, "access", "+access log", True, server_cpu, args.env)
            )
        if not args.no_isolated_row:
            servers.append(
                start_pipehouse(
                    tmp, "isolated", "isolated", False, server_cpu, args.env, isolation="isolated"
                )
            )
        workers: dict[int, int] = {}
        try:
            for server in servers:
                wait_ready(server)
                check(server, args.chunks)
            print(
                "bare: bench/bare_app.py under uvicorn, one worker\n"
                "pipehouse: python -m pipehouse serve --plugins bench/plugins/server "
                "(default settings), one worker:\n"
                "  auth (Bearer key), request ids, Prometheus metrics, global inlet filter "
                "bench_inlet,\n  call and idle timeouts, plugin watcher, SQLite store, logging "
                "at INFO (no access log by default)"
            )
            if not args.no_access_log_row:
                print(
                    "+access log: the same with --access-log: one access-log line per request, "
                    "to a file"
                )
            print()
            if args.env:
                print(f"pipehouse environment: {' '.join(args.pipehouse_env)}\n")
            print(HEADER)
            rows = measure(args, gen, script, servers, gen_cpu)
            isolated = next((x for x in servers if x.key == "isolated"), None)
            if isolated is not None:
                workers = {pid: resident_bytes(pid) for pid in children(isolated.proc.pid)}
        finally:
            for server in servers:
                stop(server)
        report(args, rows)
        if workers:
            sizes = ", ".join(f"{size / 2**20:.0f} MB" for size in workers.values())
            print(
                f"isolated server: {len(workers)} worker process(es) after the run, resident "
                f"{sizes} (bench/workers.py measures an idle worker and each loaded plugin)"
            )
        print(f"({time.monotonic() - began:.0f} s; load average {os.getloadavg()[0]:.2f})")


def report(args: argparse.Namespace, rows: dict[tuple[str, int, str], Row]) -> None:
    def ratio(mode: str, key: str, per_cpu: bool = False) -> float:
        values = []
        for connections in args.connections:
            mine, base = rows[(mode, connections, key)], rows[(mode, connections, "bare")]
            if per_cpu:
                values.append(mine.per_cpu_second / base.per_cpu_second)
            else:
                values.append(mine.rps / base.rps if base.rps else 0.0)
        return min(values)

    print(
        "\nreq/s, p50, p99: medians of the rounds; chunks/s = checked streams/s x "
        f"{args.chunks}; srv CPU: share of one core the server (and its workers) got;\nper "
        "CPU-s: requests "
        "(streaming: chunks) per second of server CPU time, i.e. the rate of a core of its own; "
        "bad: non-200,\nwrong content, missing chunks or [DONE], socket errors or timeouts. "
        "Every round opens fresh connections: p99 of a\nsaturated server includes their first "
        "requests, which wait while it takes them all on (any slow uvicorn app does this)."
    )
    starved = [row for row in rows.values() if row.server_cpu < 0.9]
    if starved:
        print(
            f"note: in {len(starved)} rows the server got < 90% of its core (other processes, or "
            "an idle moment): compare the per CPU-s columns there."
        )
    saturated = [row for row in rows.values() if row.gen_cpu >= 0.9]
    if saturated:
        print(
            f"note: the load generator used >= 90% of its core in {len(saturated)} rows: there "
            "the client, not the server, may set the pace."
        )
    failures = sum(row.failures for row in rows.values())
    print(f"every response was checked: {failures} failed or incomplete")
    requests, stream = ratio("json", "pipehouse"), ratio("stream", "pipehouse")
    print(
        f"\nheadline (pipehouse with default settings vs bare, worst of "
        f"{','.join(map(str, args.connections))} connections):\n"
        f"  requests/s {fmt_ratio(requests)} (target >= {REQUEST_TARGET:.0%}: "
        f"{'PASS' if requests >= REQUEST_TARGET else 'FAIL'}), "
        f"streamed chunks/s {fmt_ratio(stream)} (target >= {STREAM_TARGET:.0%}: "
        f"{'PASS' if stream >= STREAM_TARGET else 'FAIL'}); "
        f"per CPU-second: {fmt_ratio(ratio('json', 'pipehouse', True))} and "
        f"{fmt_ratio(ratio('stream', 'pipehouse', True))}"
    )
    if not args.no_access_log_row:
        print(
            f"  with --access-log: requests/s {fmt_ratio(ratio('json', 'access'))}, "
            f"chunks/s {fmt_ratio(ratio('stream', 'access'))}; per CPU-second "
            f"{fmt_ratio(ratio('json', 'access', True))} and "
            f"{fmt_ratio(ratio('stream', 'access', True))}"
        )
    if not args.no_isolated_row:

        def versus_inline(mode: str, per_cpu: bool = False) -> float:
            values = []
            for connections in args.connections:
                mine = rows[(mode, connections, "isolated")]
                inline = rows[(mode, connections, "pipehouse")]
                if per_cpu:
                    inline_rate = inline.per_cpu_second
                    values.append(mine.per_cpu_second / inline_rate if inline_rate else 0.0)
                else:
                    values.append(mine.rps / inline.rps if inline.rps else 0.0)
            return min(values)

        requests, stream = versus_inline("json"), versus_inline("stream")
        print(
            f"  isolated vs inline (the same server, plugins in a worker process): requests/s "
            f"{fmt_ratio(requests)} (goal >= {ISOLATED_REQUEST_GOAL:.0%}: "
            f"{'PASS' if requests >= ISOLATED_REQUEST_GOAL else 'FAIL'}), chunks/s "
            f"{fmt_ratio(stream)} (goal >= {ISOLATED_STREAM_GOAL:.0%}: "
            f"{'PASS' if stream >= ISOLATED_STREAM_GOAL else 'FAIL'}); per CPU-second "
            f"(server and worker): {fmt_ratio(versus_inline('json', True))} and "
            f"{fmt_ratio(versus_inline('stream', True))}"
        )


if __name__ == "__main__":
    main()
