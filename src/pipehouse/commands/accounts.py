"""`pipehouse keys` and `pipehouse users`: API keys and accounts in the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from pipehouse.commands.shared import DATA_DIR, DATABASE_URL, err, on_database

if TYPE_CHECKING:  # imported where used: `pipehouse --help` stays quick
    from pipehouse.store.accounts import Accounts

T = TypeVar("T")

keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
users_app = typer.Typer(help="Users: list, create, set-role, delete.", no_args_is_help=True)


def _accounts(
    data_dir: Path | None, database_url: str | None, action: Callable[[Accounts], Awaitable[T]]
) -> T:
    from pipehouse.store.accounts import Accounts

    return on_database(data_dir, database_url, lambda db: action(Accounts(db)))


@keys_app.command("create")
def keys_create(
    admin: bool = typer.Option(False, "--admin", help="A key for an admin."),
    user: str | None = typer.Option(
        None, "--user", help="Email of the key's user (created if new)."
    ),
    name: str = typer.Option("", "--name", help="A label to recognise the key by."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Create an API key and print it alone on stdout (it is not shown again).

    Example: KEY=$(pipehouse keys create --user ada@example.com)
    """
    from pipehouse.console import accounts

    print(
        _accounts(
            data_dir,
            database_url,
            lambda a: accounts.create_key(a, email=user, admin=admin, name=name),
        )
    )


@keys_app.command("list")
def keys_list(data_dir: Path | None = DATA_DIR, database_url: str | None = DATABASE_URL) -> None:
    """List keys by their prefix (the keys themselves are not stored)."""
    from pipehouse.console import accounts

    accounts.print_table(_accounts(data_dir, database_url, accounts.key_table))


@keys_app.command("revoke")
def keys_revoke(
    key: str = typer.Argument(..., help="The key's prefix (from `keys list`) or id."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Revoke a key; a running server stops accepting it within seconds."""
    from pipehouse.console import accounts

    if _accounts(data_dir, database_url, lambda a: accounts.revoke(a, key)) == 0:
        err.print(f"[red]error:[/] no active key {key}")
        raise typer.Exit(1)
    err.print(f"revoked {key}")


@users_app.command("list")
def users_list(data_dir: Path | None = DATA_DIR, database_url: str | None = DATABASE_URL) -> None:
    """List users and their roles."""
    from pipehouse.console import accounts

    accounts.print_table(_accounts(data_dir, database_url, accounts.user_table))


@users_app.command("create")
def users_create(
    email: str = typer.Argument(...),
    name: str | None = typer.Option(None, "--name"),
    role: str = typer.Option("user", "--role", help="admin, user or pending."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Create a user (give them a key with `pipehouse keys create --user EMAIL`)."""
    from pipehouse.console import accounts

    created = _accounts(
        data_dir, database_url, lambda a: accounts.create_user(a, email, name, role)
    )
    print(created.id)


@users_app.command("set-role")
def users_set_role(
    email: str = typer.Argument(...),
    role: str = typer.Argument(..., help="admin, user or pending."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Change a user's role."""
    from pipehouse.console import accounts

    _accounts(data_dir, database_url, lambda a: accounts.set_role(a, email, role))


@users_app.command("delete")
def users_delete(
    email: str = typer.Argument(...),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Delete a user and their keys."""
    from pipehouse.console import accounts

    _accounts(data_dir, database_url, lambda a: accounts.delete_user(a, email))
