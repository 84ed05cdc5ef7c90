"""pipehouse's own packages: what every environment is resolved against and never replaces."""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name

STATE_FILE = "environment.json"  # beside an environment's `site` directory


def _host_paths() -> list[str]:
    """sys.path without the environments an in-process executor has added to it."""
    return [
        entry
        for entry in sys.path
        if not (Path(entry).name == "site" and (Path(entry).parent / STATE_FILE).exists())
    ]


@cache
def host_pins() -> dict[str, str]:
    """Canonical name -> version of every distribution installed beside pipehouse (the first
    one found wins, as imports do). pipehouse itself is left out: no registry has it."""
    pins: dict[str, str] = {}
    for dist in metadata.distributions(path=_host_paths()):
        name = dist.metadata["Name"]
        if name:
            pins.setdefault(canonicalize_name(name), dist.version)
    pins.pop("pipehouse", None)
    return pins


def constraints_text() -> str:
    """The host's pins as a constraints file for uv."""
    return "".join(f"{name}=={version}\n" for name, version in sorted(host_pins().items()))


@cache
def host_digest() -> str:
    """Changes whenever pipehouse's environment does, so environments are rebuilt against it."""
    interpreter = f"{sys.implementation.name}-{sys.version_info.major}.{sys.version_info.minor}"
    return hashlib.sha256(f"{interpreter}\n{constraints_text()}".encode()).hexdigest()
