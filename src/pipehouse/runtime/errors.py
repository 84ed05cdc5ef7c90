"""Errors about the request itself (as opposed to `PluginError`, about a plugin)."""

from __future__ import annotations


class RequestError(Exception):
    """The request cannot be served as sent; `status` is the HTTP status to answer with."""

    status = 400
    type = "invalid_request_error"
    param: str | None = None  # the body key at fault, when one is (OpenAI's `error.param`)


class ModelNotFound(RequestError):
    status = 404
    type = "not_found_error"

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(f"The model '{model}' does not exist")


class RoutedModelNotFound(RequestError):
    """An inlet filter sent the request to a model that does not exist. Open WebUI answers 400
    (the model is looked up again after the inlets: open_webui/utils/chat.py,
    `generate_chat_completion`, 0.12.4); the client's own model was fine, so not a 404."""

    code = "model_not_found"

    def __init__(self, model: object, filter_id: str) -> None:
        self.model = model
        self.filter_id = filter_id
        super().__init__(
            f"The model '{model}' named by the inlet filter '{filter_id}' does not exist"
        )
