"""The data directories Open WebUI's `config`/`env` expose: the running server's, or under
`pipehouse run` (which has no data directory) a scratch one in the system's temp directory.

A worker process asks the server once for its directories (`remote.server_directories`), so
`UPLOAD_DIR` and `Storage` there are the server's, as inline: what a plugin stores, reads or
deletes is the server's upload directory (workers run on the server's machine, as its user)."""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

from pipehouse.compat import services as compat_services

log = logging.getLogger(__name__)
_server: dict[str, str] | None = None  # in a worker: the server's directories, once asked


def _server_directories() -> dict[str, str]:
    """In a worker, the server's `{"data_dir", "upload_dir"}`; elsewhere `{}`."""
    global _server
    ask = compat_services.remote_directories
    if ask is None or compat_services.current() is not None:
        return {}
    if _server is None:
        try:
            _server = ask()
        except Exception as exc:  # no answer: the scratch directory, as under `pipehouse run`
            log.warning("the server did not say where its data directory is: %s", exc)
            return {}
    return _server


def data_dir() -> Path:
    services = compat_services.current()
    server = _server_directories()
    if services is not None:
        path = Path(services.settings.data_dir).resolve()
    elif server.get("data_dir"):
        path = Path(server["data_dir"])
    else:
        path = Path(tempfile.gettempdir()) / "pipehouse-run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_dir() -> Path:
    """Where uploaded bytes live: the files service's local storage when there is one."""
    services = compat_services.current()
    files = services.backend.files if services is not None else None
    root = getattr(getattr(files, "storage", None), "root", None)
    if root is None:
        root = _server_directories().get("upload_dir")
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
