"""`GET /api/v1/auths/`: who the caller is, in Open WebUI 0.12.4's `SessionUserResponse` shape,
for clients that check their credentials or read the user's id and role there.

pipehouse has API keys, not sessions: `token` is null (the key is not echoed back, where a log
or a proxy could keep it) and nothing expires. pipehouse has no permission table or profile
fields; those keys are there with empty values so clients that read them find them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from pipehouse.api.principal import Principal, current_user

router = APIRouter(prefix="/api/v1/auths", tags=["auths"])

DEFAULT_PROFILE_IMAGE = "/user.png"  # Open WebUI's default for a user without a picture


@router.get("", include_in_schema=False)
@router.get("/")
async def session_user(user: Principal = Depends(current_user)) -> dict[str, Any]:
    """The caller's own user: `{id, email, name, role, profile_image_url, token: null,
    token_type, expires_at: null, permissions: {}, ...}`."""
    return {
        "token": None,
        "token_type": "Bearer",
        "expires_at": None,
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "profile_image_url": DEFAULT_PROFILE_IMAGE,
        "bio": None,
        "gender": None,
        "date_of_birth": None,
        "status_emoji": None,
        "status_message": None,
        "status_expires_at": None,
        "permissions": {},
    }
