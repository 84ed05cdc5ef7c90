"""`pipehouse keys ...` and `pipehouse users ...`: accounts managed straight in the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from rich.table import Table

from pipehouse.console.database import CommandError
from pipehouse.store.accounts import Accounts
from pipehouse.store.models import User


class AccountsError(CommandError):
    """Something the command cannot do (exit status 2)."""


def _when(stamp: int | None) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M") if stamp else "-"


async def _user(accounts: Accounts, email: str | None, *, admin: bool) -> User:
    if email:
        user = await accounts.user_by_email(email)
        if user is None:
            user = await accounts.create_user(email, role="admin" if admin else "user")
        elif admin and user.role != "admin":
            raise AccountsError(
                f"{email} is a {user.role}; make it an admin with "
                f"`pipehouse users set-role {email} admin`"
            )
        return user
    admins = [u for u in await accounts.list_users() if u.role == "admin"]
    if admins:
        return admins[0]
    return await accounts.create_user("admin@localhost", "Admin", role="admin")


async def create_key(accounts: Accounts, *, email: str | None, admin: bool, name: str) -> str:
    if not admin and not email:
        raise AccountsError("say whose key it is: --user EMAIL, or --admin")
    user = await _user(accounts, email, admin=admin)
    _, key = await accounts.create_key(user.id, name)
    return key


async def key_table(accounts: Accounts) -> Table:
    users = {u.id: u for u in await accounts.list_users()}
    table = Table("prefix", "user", "role", "name", "created", "revoked", show_edge=False)
    for key in await accounts.list_keys():
        user = users.get(key.user_id)
        table.add_row(
            key.prefix,
            user.email if user else "?",
            user.role if user else "?",
            key.name,
            _when(key.created_at),
            _when(key.revoked_at),
        )
    return table


async def revoke(accounts: Accounts, key: str) -> int:
    return len(await accounts.revoke_key(key))


async def user_table(accounts: Accounts) -> Table:
    table = Table("email", "name", "role", "id", "created", show_edge=False)
    for user in await accounts.list_users():
        table.add_row(user.email, user.name, user.role, user.id, _when(user.created_at))
    return table


async def create_user(accounts: Accounts, email: str, name: str | None, role: str) -> User:
    if await accounts.user_by_email(email) is not None:
        raise AccountsError(f"{email} already exists")
    try:
        return await accounts.create_user(email, name, role)
    except ValueError as exc:
        raise AccountsError(str(exc)) from exc


async def set_role(accounts: Accounts, email: str, role: str) -> None:
    user = await accounts.user_by_email(email)
    if user is None:
        raise AccountsError(f"no user {email}")
    try:
        await accounts.set_role(user.id, role)
    except ValueError as exc:
        raise AccountsError(str(exc)) from exc


async def delete_user(accounts: Accounts, email: str) -> None:
    user = await accounts.user_by_email(email)
    if user is None:
        raise AccountsError(f"no user {email}")
    await accounts.delete_user(user.id)


def print_table(table: Any) -> None:
    Console(highlight=False).print(table)
