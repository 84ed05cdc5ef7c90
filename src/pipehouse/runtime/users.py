"""The `__user__` dict plugins receive: the fields of Open WebUI's `UserModel.model_dump()`."""

from __future__ import annotations

import time
from typing import Any


def dunder_user(
    user_id: str,
    *,
    email: str,
    name: str,
    role: str = "user",
    settings: dict[str, Any] | None = None,
    created_at: int | None = None,
) -> dict[str, Any]:
    now = int(time.time())
    return {
        "id": user_id,
        "email": email,
        "username": None,
        "role": role,
        "name": name,
        "profile_image_url": "/user.png",
        "profile_banner_image_url": None,
        "bio": None,
        "gender": None,
        "date_of_birth": None,
        "timezone": None,
        "info": {},
        "settings": settings or {},
        "oauth": None,
        "last_active_at": now,
        "updated_at": now,
        "created_at": created_at or now,
    }


def local_user() -> dict[str, Any]:
    """Whoever runs the command line: an admin, as the author of a plugin usually is."""
    return dunder_user("local", email="you@localhost", name="You", role="admin")
