"""`open_webui.config`: the data directories (`Path`s, as in Open WebUI). They are read when a
plugin asks (not frozen at import), so they follow the server that is running."""

from __future__ import annotations

from typing import Any

from pipehouse.compat import paths
from pipehouse.compat.errors import missing_names

_missing = missing_names(__name__)
_DIRECTORIES = {
    "UPLOAD_DIR": paths.upload_dir,
    "CACHE_DIR": paths.cache_dir,
    "DATA_DIR": paths.data_dir,
}


def __getattr__(name: str) -> Any:
    directory = _DIRECTORIES.get(name)
    if directory is not None:
        return directory()
    return _missing(name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_DIRECTORIES])
