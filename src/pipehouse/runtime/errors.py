"""Errors about the request itself (as opposed to `PluginError`, about a plugin)."""

from __future__ import annotations


class RequestError(Exception):
    """The request cannot be served as sent; `status` is the HTTP status to answer with."""

    status = 400
    type = "invalid_request_error"


class ModelNotFound(RequestError):
    status = 404
    type = "not_found_error"

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(f"The model '{model}' does not exist")
