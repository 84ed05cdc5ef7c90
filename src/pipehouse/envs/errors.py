"""Why an environment could not be built, in words an admin can act on."""

from __future__ import annotations

import re

from pipehouse.envs.host import host_pins

_TAIL_LINES = 15
# uv wraps its explanation to the terminal's width: any run of spaces may be a line break
_NOT_FOUND = re.compile(
    r"Because\s+([A-Za-z0-9_.\-]+)\s+was\s+not\s+found\s+in\s+the\s+(?:package\s+registry|cache)"
)


class EnvironmentBuildError(RuntimeError):
    """uv refused or failed; `message` says why, `tail` holds its last lines."""

    def __init__(self, message: str, tail: list[str]) -> None:
        self.message = message
        self.tail = tail
        super().__init__(message)


def explain(requirements: list[str], lines: list[str], *, offline: bool) -> EnvironmentBuildError:
    """Turn uv's output into the error an admin reads: a requirement that would replace a
    package pipehouse runs on names both versions; a package not available offline is named."""
    text = "\n".join(lines)
    tail = lines[-_TAIL_LINES:]
    missing = _NOT_FOUND.search(text)
    if missing and offline:
        return EnvironmentBuildError(
            f"PIPEHOUSE_OFFLINE is set and {missing.group(1)} is not in the package cache; "
            "build this environment once with network access (or unset PIPEHOUSE_OFFLINE)",
            tail,
        )
    if missing:
        return EnvironmentBuildError(
            f"no package named {missing.group(1)} in the package registry", tail
        )
    pins = host_pins()
    clashes = [
        f"{name}=={pins[name]}"
        for name in sorted(pins)
        if re.search(rf"\b{re.escape(name)}=={re.escape(pins[name])}\b", text)
    ]
    if clashes and "No solution found" in text:
        return EnvironmentBuildError(
            f"{', '.join(requirements)} cannot be installed beside pipehouse, which runs on "
            f"{', '.join(clashes)} and keeps those versions: an environment adds packages, it "
            "never replaces one pipehouse runs on",
            tail,
        )
    return EnvironmentBuildError(
        f"installing {', '.join(requirements)} failed: {tail[-1] if tail else 'no output'}", tail
    )
