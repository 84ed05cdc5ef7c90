"""Memory of isolated mode: an idle worker process, and what each loaded plugin adds to it.

    .venv/bin/python bench/workers.py [--plugins 50]

Starts one worker as the server does (`ProcessExecutor` over a `Supervisor`), reads its resident
memory (VmRSS) with nothing loaded, then loads `--plugins` copies of bench/plugins/server's
plugins under distinct ids (each a module and an instance of its own, as distinct plugin files
are) and reads it again. Figures are for this machine and Python; a plugin that imports a large
library adds that library once per worker (docs/isolation.md, "Memory").
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
from pathlib import Path

from pipehouse.runtime.executor import PluginSource
from pipehouse.runtime.workers.executor import ProcessExecutor

PLUGINS = Path(__file__).parent / "plugins" / "server"


async def measure(count: int) -> None:
    executor = ProcessExecutor()
    try:
        files = sorted(PLUGINS.glob("*.py"))
        started = time.perf_counter()
        connection = await executor._connection((None, None))
        await asyncio.sleep(1.0)  # let the interpreter settle after its imports
        idle = connection.process.rss()
        spawn = time.perf_counter() - started
        loaded = 0
        started = time.perf_counter()
        for n in range(count):
            path = files[n % len(files)]
            await executor.load(PluginSource(f"{path.stem}_{n}", path.read_text(), str(path)))
            loaded += 1
        loading = time.perf_counter() - started
        await asyncio.sleep(0.5)
        full = connection.process.rss()
        print(f"pipehouse worker memory: Python {platform.python_version()}")
        print(
            f"  idle worker (interpreter + pipehouse runtime): {idle / 2**20:.1f} MB, "
            f"started in {spawn:.2f} s"
        )
        print(
            f"  with {loaded} plugins loaded: {full / 2**20:.1f} MB, "
            f"{(full - idle) / loaded / 1024:.0f} KB per plugin "
            f"(loaded in {loading / loaded * 1000:.1f} ms each)"
        )
    finally:
        await executor.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plugins", type=int, default=50, help="plugins to load (50)")
    args = parser.parse_args()
    asyncio.run(measure(args.plugins))


if __name__ == "__main__":
    main()
