"""The `--plugins` directories of this run: which files in them are plugins, whether a stored
path is served here, and watching them (`watchfiles`) so a changed file reloads alone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def is_plugin_file(path: Path) -> bool:
    """`*.py`, except private (`_x.py`) and hidden files."""
    return path.suffix == ".py" and not path.name.startswith(("_", "."))


class PluginDirectories:
    def __init__(self, directories: Sequence[Path]) -> None:
        self.directories = list(directories)

    def missing(self) -> list[Path]:
        return [d for d in self.directories if not d.is_dir()]

    def serves(self, path: str | None) -> bool:
        """Whether a directory plugin's file lies in one of this run's directories."""
        if not path:
            return False
        parent = Path(path).parent.resolve()
        return any(parent == d.resolve() for d in self.directories)

    def files(self) -> list[Path]:
        files: list[Path] = []
        for directory in self.directories:
            if not directory.is_dir():  # removed while serving: start() refuses a missing one
                log.error("plugin directory %s does not exist", directory)
                continue
            files += sorted(p for p in directory.glob("*.py") if is_plugin_file(p))
        return files

    async def watch(
        self,
        stop: asyncio.Event,
        changed: Callable[[Path], Awaitable[object]],
        removed: Callable[[Path], Awaitable[None]],
    ) -> None:
        """Call `changed` or `removed` for each plugin file touched, until `stop` is set."""
        from watchfiles import Change, awatch

        dirs = [d for d in self.directories if d.is_dir()]
        async for changes in awatch(*dirs, stop_event=stop, recursive=False):
            for change, raw in sorted(changes, key=lambda c: c[1]):
                path = Path(raw)
                if not is_plugin_file(path):
                    continue
                try:
                    if change is Change.deleted or not path.exists():
                        await removed(path)
                    else:
                        await changed(path)
                except Exception:  # the watcher must outlive any one bad file
                    log.exception("reloading %s failed", path)
