"""Users and keys for the console's admin page (the CLI's `pipehouse keys/users`, over HTTP).

Not part of Open WebUI's API, so kept out of the schema under `/console/api`. A new key is
answered once, in the response that creates it; lists show only its displayed prefix.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from pipehouse.api.principal import Principal, admin_user

router = APIRouter(prefix="/console/api", include_in_schema=False)

ROLES = ("admin", "user", "pending")


class NewKey(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(default="", max_length=200)
    role: str = "user"  # for a user that does not exist yet


@router.get("/users")
async def users(request: Request, _: Principal = Depends(admin_user)) -> list[dict[str, Any]]:
    accounts = request.app.state.accounts
    keys = await accounts.list_keys()
    return [
        {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "keys": [
                {
                    "id": key.id,
                    "prefix": key.prefix,
                    "name": key.name,
                    "created_at": key.created_at,
                    "revoked": key.revoked_at is not None,
                }
                for key in keys
                if key.user_id == user.id
            ],
        }
        for user in await accounts.list_users()
    ]


@router.post("/keys")
async def create_key(
    form: NewKey, request: Request, _: Principal = Depends(admin_user)
) -> dict[str, str]:
    if form.role not in ROLES:
        raise HTTPException(400, f"role must be one of {', '.join(ROLES)}")
    accounts = request.app.state.accounts
    user = await accounts.user_by_email(form.email) or await accounts.create_user(
        form.email, role=form.role
    )
    row, key = await accounts.create_key(user.id, form.name)
    return {"id": row.id, "prefix": row.prefix, "key": key}


@router.post("/keys/{key_id}/revoke")
async def revoke_key(
    key_id: str, request: Request, _: Principal = Depends(admin_user)
) -> dict[str, int]:
    revoked = await request.app.state.accounts.revoke_key(key_id)
    if not revoked:
        raise HTTPException(404, "No such key")
    return {"revoked": len(revoked)}
