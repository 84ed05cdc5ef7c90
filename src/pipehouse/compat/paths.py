"""The data directories Open WebUI's `config`/`env` expose: the running server's, or under
`pipehouse run` (which has no data directory) a scratch one in the system's temp directory."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from pipehouse.compat import services as compat_services


def data_dir() -> Path:
    services = compat_services.current()
    if services is None:
        path = Path(tempfile.gettempdir()) / "pipehouse-run"
    else:
        path = Path(services.settings.data_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_dir() -> Path:
    """Where uploaded bytes live: the files service's local storage when there is one."""
    services = compat_services.current()
    files = services.backend.files if services is not None else None
    root = getattr(getattr(files, "storage", None), "root", None)
    path = Path(root) if root is not None else data_dir() / "uploads"
    path.mkdir(parents=True, exist_ok=True)  # Open WebUI creates it on import; plugins write here
    return path


def cache_dir() -> Path:
    path = data_dir() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def storage_name(filename: str) -> str:
    """`filename` as a name the storage accepts: letters, digits, `.`, `_` and `-`, at most
    200 characters (the extension kept), starting with a letter or digit."""
    name = _UNSAFE.sub("_", Path(filename).name).replace("..", "_")
    if not name[:1].isalnum():
        name = f"f{name}"
    if len(name) > 200:
        _, dot, ext = name.rpartition(".")
        keep = f".{ext}" if dot and len(ext) <= 16 else ""
        name = name[: 200 - len(keep)] + keep
    return name
