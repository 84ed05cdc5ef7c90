"""`open_webui.models.models`: Open WebUI's workspace models (a base model plus a system prompt,
parameters and an avatar). pipehouse has none: every model it serves is a plugin or an upstream
model, so lookups find nothing (`None`, `[]`) and plugins take the path they take in Open WebUI
when a model has no workspace entry. Creating one is refused with an error that says so.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from pipehouse.compat.bridge import AwaitableModel, Table, dual
from pipehouse.compat.errors import DOCS, CompatError, missing_names

__all__ = ["ModelForm", "ModelMeta", "ModelModel", "ModelParams", "Models"]
__getattr__ = missing_names(__name__)


class ModelParams(AwaitableModel):
    model_config = ConfigDict(extra="allow")


class ModelMeta(AwaitableModel):
    profile_image_url: str | None = "/static/favicon.png"
    description: str | None = None
    capabilities: dict[str, Any] | None = None
    model_config = ConfigDict(extra="allow")


class ModelModel(AwaitableModel):
    version_id: str | None = None
    id: str
    user_id: str
    base_model_id: str | None = None
    name: str
    params: ModelParams
    meta: ModelMeta
    access_grants: list[Any] = Field(default_factory=list)
    is_active: bool
    updated_at: int
    created_at: int
    model_config = ConfigDict(from_attributes=True)


class ModelForm(AwaitableModel):
    commit_message: str | None = None
    id: str = Field(pattern=r"^\S+$")
    base_model_id: str | None = None
    name: str
    meta: ModelMeta
    params: ModelParams
    access_grants: list[dict[str, Any]] | None = None
    is_active: bool = True


def _no_workspace_models(label: str) -> CompatError:
    return CompatError(
        f"{label}(): pipehouse has no workspace models (its models are plugins and upstream "
        f"models); see {DOCS}"
    )


class ModelsTable(Table):
    """`Models`: call each method with `await` (Open WebUI 0.12.4) or without (older
    releases)."""

    @dual(without_server=True)
    async def get_model_by_id(backend: Any, id: str, db: Any = None) -> ModelModel | None:
        return None

    @dual(without_server=True)
    async def get_models_by_ids(backend: Any, ids: list[str], db: Any = None) -> list[ModelModel]:
        return []

    @dual(without_server=True)
    async def get_all_models(backend: Any, db: Any = None) -> list[ModelModel]:
        return []

    @dual(without_server=True)
    async def get_models(backend: Any, *args: Any, **kwargs: Any) -> list[ModelModel]:
        return []

    @dual(without_server=True)
    async def get_base_models(backend: Any, *args: Any, **kwargs: Any) -> list[ModelModel]:
        return []

    @dual(without_server=True)
    async def insert_new_model(backend: Any, *args: Any, **kwargs: Any) -> ModelModel | None:
        raise _no_workspace_models("Models.insert_new_model")

    @dual(without_server=True)
    async def update_model_by_id(backend: Any, *args: Any, **kwargs: Any) -> ModelModel | None:
        raise _no_workspace_models("Models.update_model_by_id")

    @dual(without_server=True)
    async def delete_model_by_id(backend: Any, *args: Any, **kwargs: Any) -> bool:
        raise _no_workspace_models("Models.delete_model_by_id")


Models = ModelsTable()
