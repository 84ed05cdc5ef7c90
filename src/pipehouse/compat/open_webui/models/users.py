"""`open_webui.models.users`: pipehouse's users as Open WebUI's `UserModel`s.

`Users` reads pipehouse's `user` table (accounts); under `pipehouse run` it knows exactly one
user, the one running the command, and answers lookups from that. `User` is pipehouse's own
table class (for type hints and queries through `internal.db`), not Open WebUI's.
"""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from pipehouse.compat.bridge import AwaitableModel, Table, dual
from pipehouse.compat.errors import missing_names
from pipehouse.compat.services import Backend
from pipehouse.runtime.serving import serving
from pipehouse.store.models import User

__all__ = ["User", "UserModel", "UserSettings", "Users", "UsersTable"]
__getattr__ = missing_names(__name__)


class UserSettings(AwaitableModel):
    ui: dict[str, Any] | None = {}
    model_config = ConfigDict(extra="allow")


class UserModel(AwaitableModel):
    """Open WebUI 0.12.4's fields; pipehouse fills those it keeps (id, email, name, role,
    settings and the timestamps) and leaves the profile fields at their defaults."""

    id: str
    email: str
    username: str | None = None
    role: str = "pending"
    name: str
    profile_image_url: str | None = None
    profile_banner_image_url: str | None = None
    bio: str | None = None
    gender: str | None = None
    date_of_birth: datetime.date | None = None
    timezone: str | None = None
    presence_state: str | None = None
    status_emoji: str | None = None
    status_message: str | None = None
    status_expires_at: int | None = None
    info: dict[str, Any] | None = None
    variables: dict[str, Any] = Field(default_factory=dict, exclude=True)
    settings: UserSettings | None = None
    oauth: dict[str, Any] | None = None
    scim: dict[str, Any] | None = None
    last_active_at: int
    updated_at: int
    created_at: int

    model_config = ConfigDict(from_attributes=True)

    @model_validator(mode="after")
    def _default_profile_image(self) -> UserModel:
        # Open WebUI serves a generated avatar at this address when a user has none.
        self.profile_image_url = self.profile_image_url or f"/api/v1/users/{self.id}/profile/image"
        return self


def user_model(row: User | dict[str, Any]) -> UserModel:
    """A pipehouse user row (or a `__user__` dict) as a `UserModel`."""
    if isinstance(row, dict):
        data = dict(row)
        data.pop("valves", None)
    else:
        data = {
            "id": row.id,
            "email": row.email,
            "name": row.name,
            "role": row.role,
            "settings": row.settings or {},
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "last_active_at": row.last_active_at,
        }
    stamp = data.get("updated_at") or data.get("created_at") or 0
    data.setdefault("created_at", stamp)
    data.setdefault("updated_at", stamp)
    if data.get("last_active_at") is None:
        data["last_active_at"] = data["updated_at"]
    return UserModel.model_validate(data)


def _known_without_server() -> list[UserModel]:
    """Under `pipehouse run`: the user of the request being served, if any."""
    current = serving.get()
    return [user_model(current[1])] if current is not None else []


async def _all_users(backend: Backend | None) -> list[UserModel]:
    if backend is None:
        return _known_without_server()
    return [user_model(row) for row in await backend.accounts.list_users()]


class UsersTable(Table):
    """`Users`: call each method with `await` (Open WebUI 0.12.4) or without (older
    releases); see `pipehouse.compat.bridge`."""

    @dual(without_server=True)
    async def get_user_by_id(backend: Backend | None, id: str, db: Any = None) -> UserModel | None:
        if backend is None:
            return next((u for u in _known_without_server() if u.id == id), None)
        row = await backend.accounts.get_user(id)
        return user_model(row) if row is not None else None

    @dual(without_server=True)
    async def get_user_by_email(
        backend: Backend | None, email: str, db: Any = None
    ) -> UserModel | None:
        if backend is None:
            wanted = email.strip().lower()
            return next((u for u in _known_without_server() if u.email.lower() == wanted), None)
        row = await backend.accounts.user_by_email(email)
        return user_model(row) if row is not None else None

    @dual(without_server=True)
    async def get_users_by_user_ids(
        backend: Backend | None, user_ids: list[str], db: Any = None
    ) -> list[UserModel]:
        wanted = set(user_ids)
        return [u for u in await _all_users(backend) if u.id in wanted]

    @dual(without_server=True)
    async def get_users(
        backend: Backend | None,
        filter: dict[str, Any] | None = None,
        sort: dict[str, Any] | None = None,
        skip: int | None = None,
        limit: int | None = None,
        db: Any = None,
    ) -> dict[str, Any]:
        """`{"users": [...], "total": n}`, newest first; of `filter` only `query` (a part of
        the name or email) is applied."""
        users = sorted(await _all_users(backend), key=lambda u: u.created_at, reverse=True)
        query = str((filter or {}).get("query") or "").lower()
        if query:
            users = [u for u in users if query in u.name.lower() or query in u.email.lower()]
        total = len(users)
        start = skip or 0
        users = users[start : start + limit if limit is not None else None]
        return {"users": users, "total": total}

    @dual(without_server=True)
    async def get_num_users(backend: Backend | None, db: Any = None) -> int:
        return len(await _all_users(backend))

    @dual(without_server=True)
    async def get_first_user(backend: Backend | None, db: Any = None) -> UserModel | None:
        users = sorted(await _all_users(backend), key=lambda u: (u.created_at, u.role != "admin"))
        return users[0] if users else None

    @dual(without_server=True)
    async def get_super_admin_user(backend: Backend | None, db: Any = None) -> UserModel | None:
        admins = [u for u in await _all_users(backend) if u.role == "admin"]
        return min(admins, key=lambda u: u.created_at) if admins else None

    @dual()
    async def update_user_role_by_id(
        backend: Backend, id: str, role: str, db: Any = None
    ) -> UserModel | None:
        if await backend.accounts.get_user(id) is None:
            return None
        await backend.accounts.set_role(id, role)
        row = await backend.accounts.get_user(id)
        return user_model(row) if row is not None else None

    @dual()
    async def update_user_settings_by_id(
        backend: Backend, id: str, updated: dict[str, Any], db: Any = None
    ) -> UserModel | None:
        """Merge `updated` into the user's settings; `ui` is patched field by field (a None
        value removes the field), as Open WebUI 0.12.4 does."""
        row = await backend.accounts.get_user(id)
        if row is None:
            return None
        settings = dict(row.settings or {})
        changes = dict(updated)
        ui = changes.pop("ui", None)
        settings.update(changes)
        if ui is not None:
            merged = dict(settings.get("ui") or {})
            for key, value in ui.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            settings["ui"] = merged
        await backend.accounts.update_settings(id, settings)
        row = await backend.accounts.get_user(id)
        return user_model(row) if row is not None else None


Users = UsersTable()
