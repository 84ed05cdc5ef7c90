"""Making a plugin's environment importable in the server's own process (inline mode).

The environment goes AFTER the host's paths: pipehouse's packages always win, and an
environment only adds what the host lacks (docs/isolation.md). Two environments with different
versions of one package cannot both be served in one process: the first on the path wins,
which is why the isolated mode runs each environment in worker processes of its own.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def make_importable(environment: Path | None) -> None:
    if environment is None:
        return
    entry = str(environment)
    if entry not in sys.path:
        sys.path.append(entry)
        importlib.invalidate_caches()  # finders cached "no such module" for the new directory
