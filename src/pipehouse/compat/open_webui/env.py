"""`open_webui.env`: the few settings plugins read."""

from __future__ import annotations

import os
from typing import Any

from pipehouse.compat import paths
from pipehouse.compat.errors import missing_names

_missing = missing_names(__name__)

# The Open WebUI release whose plugin behaviour pipehouse implements; plugins compare it to
# choose between API generations.
VERSION = "0.12.4"
ENV = os.environ.get("ENV", "prod")
WEBUI_NAME = os.environ.get("WEBUI_NAME", "pipehouse")
GLOBAL_LOG_LEVEL = os.environ.get("GLOBAL_LOG_LEVEL", "INFO").upper()


def _timeout(name: str) -> int | None:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else None
    except ValueError:
        return 300


AIOHTTP_CLIENT_TIMEOUT = _timeout("AIOHTTP_CLIENT_TIMEOUT")


class _LogLevels(dict[str, Any]):
    """Open WebUI 0.12.4 keeps `SRC_LOG_LEVELS` as an empty dict, so the common
    `log.setLevel(SRC_LOG_LEVELS["MAIN"])` raises KeyError at import; here every key gives
    the global level, as older releases did for the keys they had."""

    def __missing__(self, key: str) -> str:
        return os.environ.get(f"{key}_LOG_LEVEL", GLOBAL_LOG_LEVEL).upper()


SRC_LOG_LEVELS = _LogLevels()


def __getattr__(name: str) -> Any:
    if name == "DATA_DIR":
        return paths.data_dir()
    return _missing(name)
