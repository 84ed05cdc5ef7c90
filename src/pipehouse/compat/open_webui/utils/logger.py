"""`open_webui.utils.logger`: the names plugins import from Open WebUI's logging set-up.

pipehouse configures logging itself (`PIPEHOUSE_LOG_LEVEL`, `PIPEHOUSE_LOG_JSON`), so
`start_logger()` leaves it as it is rather than replacing the server's handlers with loguru's.
`InterceptHandler` forwards standard log records to loguru when loguru is installed, as Open
WebUI's does, and otherwise to the `pipehouse.plugins` logger.
"""

from __future__ import annotations

import logging

from pipehouse.compat.errors import missing_names

__all__ = ["InterceptHandler", "start_logger"]
__getattr__ = missing_names(__name__)

_fallback = logging.getLogger("pipehouse.plugins")


class InterceptHandler(logging.Handler):
    """A handler that passes each record on to loguru (or, without loguru, to pipehouse's
    plugin logger)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from loguru import logger
        except ImportError:
            if record.name != _fallback.name:  # never back into itself
                _fallback.handle(record)
            return
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(exception=record.exc_info).log(level, record.getMessage())


def start_logger() -> None:
    """Open WebUI sets up its loguru handlers here; pipehouse's logging is already set up."""
