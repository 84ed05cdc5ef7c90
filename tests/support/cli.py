"""The `pipehouse` command line in a child process, the way a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The user's environment without pipehouse's own settings, and output a test can read: wide
# lines, no colours.
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("PIPEHOUSE_")},
    "COLUMNS": "200",
    "NO_COLOR": "1",
    "TERM": "dumb",
}
MODULE = [sys.executable, "-m", "pipehouse"]


def pipehouse(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str = "",
    cwd: Path | None = None,
    command: list[str] = MODULE,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`command ARGS` to its end, output as text; `env` is added to `ENV`."""
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**ENV, **(env or {})},
        cwd=cwd,
        timeout=timeout,
    )
