"""One environment built by uv: `uv pip install --target <env>/site`, resolved against the host's
installed versions as constraints, so nothing pipehouse runs on is ever replaced."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from uv import find_uv_bin

from pipehouse.envs.errors import EnvironmentBuildError, explain
from pipehouse.envs.host import constraints_text

SITE = "site"

# uv's summary lines, as the step an admin sees
_STEPS = (
    ("Resolved", "resolved"),
    ("Prepared", "downloaded"),
    ("Installed", "installed"),
    ("Audited", "installed"),
    ("Checked", "installed"),  # what newer uv prints where older printed "Audited"
)


def step_of(line: str) -> str | None:
    for prefix, step in _STEPS:
        if line.startswith(prefix):
            return f"{step}: {line}"
    return None


def uv_command(
    requirements: list[str], target: Path, constraints: Path, *, offline: bool
) -> list[str]:
    command = [find_uv_bin(), "pip", "install", "--target", str(target)]
    command += ["--python", sys.executable, "--constraint", str(constraints)]
    if offline:
        command.append("--offline")
    return [*command, *requirements]


async def build(
    requirements: list[str],
    directory: Path,
    *,
    offline: bool,
    cache_dir: Path | None,
    on_line: Callable[[str], None],
) -> Path:
    """Install into `directory/site` (built aside, then renamed into place) and return it;
    raises `EnvironmentBuildError` saying why not."""
    directory.mkdir(parents=True, exist_ok=True)
    constraints = directory / "host-constraints.txt"
    constraints.write_text(constraints_text(), encoding="utf-8")
    partial = directory / f"{SITE}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    # one message per line: uv wraps to COLUMNS, which the server may have inherited narrow
    env = dict(os.environ, UV_NO_PROGRESS="1", COLUMNS="400")
    if cache_dir is not None and "UV_CACHE_DIR" not in os.environ:
        env["UV_CACHE_DIR"] = str(cache_dir)
    process = await asyncio.create_subprocess_exec(
        *uv_command(requirements, partial, constraints, offline=offline),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    lines: list[str] = []
    assert process.stdout is not None
    async for raw in process.stdout:
        line = raw.decode(errors="replace").rstrip()
        if line:
            lines.append(line)
            on_line(line)
    if await process.wait() != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise explain(requirements, lines, offline=offline)
    site = directory / SITE
    shutil.rmtree(site, ignore_errors=True)
    partial.rename(site)
    return site


def size_of(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file() and not p.is_symlink())


__all__ = ["SITE", "EnvironmentBuildError", "build", "size_of", "step_of", "uv_command"]
