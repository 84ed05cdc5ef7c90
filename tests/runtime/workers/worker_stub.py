"""A stand-in worker for the supervisor's own tests: it runs whatever Python it is sent, so a
test can make its worker exit, crash, allocate, spin or block, as a plugin would.

Started by `Supervisor(command=...)` exactly like the real worker: the protocol socket and the
heartbeat pipe come from the environment. One line in = one snippet, run on the event loop (so a
blocking snippet blocks the loop), compiled under the file name of the plugin it plays; "ok"
comes back when it returns.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys

from pipehouse.runtime.workers import heartbeat
from pipehouse.runtime.workers.supervisor import PROTOCOL_FD_VAR

PLUGIN_FILE = "/plugins/stub_plugin.py"  # what a stall is traced to
FILES = {PLUGIN_FILE: "stub_plugin"}


async def main() -> None:
    sock = socket.socket(fileno=int(os.environ[PROTOCOL_FD_VAR]))
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    heartbeat.start_beating(FILES)
    scope: dict[str, object] = {}
    while line := await reader.readline():
        exec(compile(line.decode(), PLUGIN_FILE, "exec"), scope)
        writer.write(b"ok\n")
        await writer.drain()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
