"""`/api/v1/connections`: the upstream model servers, for admins.

Bodies are read here rather than by FastAPI so that a bad one is a 400 listing each field's
problem (`[{field, message, type}]`, the shape of every validation error in this API). A view
posted back as it was read works as an update: `source` and the timestamps are ignored, and the
masked key keeps the stored one.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from pipehouse.api.params import PathId
from pipehouse.api.principal import Principal, admin_user
from pipehouse.service.connections import (
    ConnectionService,
    checked_base_url,
    checked_id,
    checked_models,
)
from pipehouse.service.errors import ServiceError

router = APIRouter(prefix="/api/v1/connections", tags=["connections"])

VIEW_ONLY = {"source", "created_at", "updated_at"}

ConnectionId = Annotated[str, AfterValidator(checked_id)]
BaseUrl = Annotated[str, AfterValidator(checked_base_url)]
ModelIds = Annotated[list[str], AfterValidator(checked_models)]
Stripped = Annotated[str, AfterValidator(str.strip)]


class ConnectionChanges(BaseModel):
    """An update: absent fields stay as they are; `null` is refused where it means nothing."""

    model_config = ConfigDict(extra="forbid")

    # A None default marks "absent" (left unchanged) while the type still refuses a `null`.
    id: ConnectionId | None = None
    base_url: BaseUrl = Field(default=None)  # type: ignore[assignment]  # absent, see above
    api_key: Stripped | None = None
    prefix: Stripped | None = None
    models: ModelIds = Field(default=None)  # type: ignore[arg-type]  # absent, see above
    enabled: bool = Field(default=None)  # type: ignore[assignment]  # absent, see above


class NewConnection(ConnectionChanges):
    base_url: BaseUrl
    models: ModelIds = Field(default_factory=list)
    enabled: bool = True


Form = TypeVar("Form", bound=BaseModel)


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The request body for /openapi.json, which cannot see a body read by hand."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def field_error(field: str, message: str, kind: str) -> dict[str, str]:
    return {"field": field, "message": message, "type": kind}


async def read_form(request: Request, model: type[Form]) -> Form:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ServiceError(400, [field_error("", "The body must be a JSON object", "json_invalid")])
    body = {key: value for key, value in body.items() if key not in VIEW_ONLY}
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors = [
            field_error(
                ".".join(str(part) for part in e["loc"]),
                e["msg"].removeprefix("Value error, "),
                e["type"],
            )
            for e in exc.errors()
        ]
        raise ServiceError(400, errors) from None


def service(request: Request) -> ConnectionService:
    return request.app.state.connections


@router.get("")
async def list_connections(
    request: Request, _: Principal = Depends(admin_user)
) -> list[dict[str, Any]]:
    """Every connection, env, CLI and stored, with `source`; keys show as `********`."""
    return await service(request).overview()


@router.post("", openapi_extra=body_schema(NewConnection))
async def create_connection(request: Request, _: Principal = Depends(admin_user)) -> dict[str, Any]:
    """Store a connection and start using it; without an `id`, one is made from the URL."""
    form = await read_form(request, NewConnection)
    return await service(request).create(
        form.id,
        base_url=form.base_url,
        api_key=form.api_key,
        prefix=form.prefix,
        models=form.models,
        enabled=form.enabled,
    )


@router.get("/{connection_id}")
async def get_connection(
    request: Request, connection_id: PathId, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    return await service(request).view(connection_id)


@router.post("/{connection_id}/update", openapi_extra=body_schema(ConnectionChanges))
async def update_connection(
    request: Request, connection_id: PathId, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """Change the fields given (a stored connection only: the others are read-only, 403)."""
    form = await read_form(request, ConnectionChanges)
    changes = form.model_dump(exclude_unset=True)
    if changes.pop("id", connection_id) != connection_id:
        raise ServiceError(
            400, [field_error("id", "The id of a connection cannot change", "value_error")]
        )
    return await service(request).update(connection_id, changes)


@router.post("/{connection_id}/delete")
@router.delete("/{connection_id}")
async def delete_connection(
    request: Request, connection_id: PathId, _: Principal = Depends(admin_user)
) -> bool:
    """Remove a stored connection (the others are read-only, 403)."""
    await service(request).delete(connection_id)
    return True
