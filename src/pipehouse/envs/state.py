"""An environment's state as plain data, kept in a JSON file beside its packages so that a
restart (or another replica sharing the data dir) knows what is built."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from pipehouse.envs.host import STATE_FILE

State = Literal["queued", "installing", "ready", "failed"]
TAIL = 20  # installer lines kept for the status


@dataclass
class EnvState:
    """`{key, state, step, progress, error, requirements, plugins, size, created}`: what the
    admin API, the CLI and the console show."""

    key: str
    requirements: list[str]
    state: State = "queued"
    step: str = "waiting for a free installer"
    progress: list[str] = field(default_factory=list)  # the installer's last lines
    error: str | None = None
    plugins: list[str] = field(default_factory=list)
    size: int | None = None  # bytes on disk once built
    created: float = field(default_factory=time.time)
    host: str = ""  # the host digest it was built against (envs/host.py)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("host")
        return data

    def line(self, text: str) -> None:
        self.progress.append(text)
        del self.progress[:-TAIL]

    def save(self, directory: Path) -> None:
        """Written whole, then renamed: a reader never sees half a file."""
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / f".{STATE_FILE}.{os.getpid()}"
        partial.write_bytes(orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2))
        partial.replace(directory / STATE_FILE)

    @classmethod
    def load(cls, directory: Path) -> EnvState | None:
        with contextlib.suppress(OSError, orjson.JSONDecodeError, TypeError):
            data = orjson.loads((directory / STATE_FILE).read_bytes())
            return cls(**data)
        return None
