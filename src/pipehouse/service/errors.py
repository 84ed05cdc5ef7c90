"""What a service answers when a request cannot be done: the HTTP status and Open WebUI's
words, raised below the API and turned into a response by api/errors.py."""

from __future__ import annotations

from typing import Any

NOT_FOUND = "We could not find what you're looking for :/"  # Open WebUI's words


class ServiceError(Exception):
    """A request that cannot be done; `status` is the HTTP status."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        super().__init__(str(detail))
