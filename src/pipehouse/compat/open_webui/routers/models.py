"""`open_webui.routers.models.get_models`: Open WebUI's workspace models, of which pipehouse
has none (its models are plugins and upstream models, listed at GET /v1/models), so the answer
is always an empty page, as Open WebUI gives a user who has no workspace models."""

from __future__ import annotations

from typing import Any

from pipehouse.compat.bridge import AwaitableModel, dual
from pipehouse.compat.errors import missing_names

__all__ = ["ModelAccessListResponse", "get_models"]
__getattr__ = missing_names(__name__)


class ModelAccessListResponse(AwaitableModel):
    items: list[Any] = []
    total: int = 0


class _Routes:
    @dual(without_server=True, label="get_models")
    async def get_models(backend: Any, *args: Any, **kwargs: Any) -> ModelAccessListResponse:
        return ModelAccessListResponse()


get_models = _Routes().get_models
