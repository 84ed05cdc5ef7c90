"""Errors that name the plugin, the file and the line, and say what to do about it."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any


def plugin_frames(exc: BaseException, path: str | None) -> list[traceback.FrameSummary]:
    """The traceback frames that lie in the plugin's own file, outermost first."""
    if not path:
        return []
    return [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]


def _last_line(exc: BaseException, path: str | None) -> int | None:
    if isinstance(exc, SyntaxError) and (exc.filename == path or str(exc.filename).startswith("<")):
        return exc.lineno  # "<id>": source that has no file of its own yet
    frames = plugin_frames(exc, path)
    return frames[-1].lineno if frames else None


@dataclass
class PluginError(Exception):
    """Something a plugin did (or failed to do); plain data so it can cross process boundaries."""

    plugin_id: str
    message: str
    path: str | None = None
    line: int | None = None
    error_type: str = "Exception"
    hint: str | None = None
    stage: str = "call"  # load | valves | call | <hook name>
    traceback: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = self.path or "<source>"
        if self.line:
            where = f"{where}:{self.line}"
        text = (
            f"plugin '{self.plugin_id}' ({where}) {self.stage}: {self.error_type}: {self.message}"
        )
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "plugin_id": self.plugin_id,
            "stage": self.stage,
            "type": self.error_type,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "hint": self.hint,
            **({"details": self.details} if self.details else {}),
        }

    @classmethod
    def from_exception(
        cls,
        exc: BaseException,
        *,
        plugin_id: str,
        path: str | None,
        stage: str,
        hint: str | None = None,
    ) -> PluginError:
        own = [
            {"file": f.filename, "line": f.lineno, "function": f.name, "code": f.line or ""}
            for f in plugin_frames(exc, path)
        ]
        return cls(
            plugin_id=plugin_id,
            message=str(exc) or type(exc).__name__,
            path=path,
            line=_last_line(exc, path),
            error_type=type(exc).__name__,
            hint=hint,
            stage=stage,
            traceback="".join(traceback.format_exception(exc)),
            details={"frames": own} if own else {},
        )


class PluginLoadError(PluginError):
    """The file could not be turned into a plugin instance."""
