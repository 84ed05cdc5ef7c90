"""What every command shares: the stderr console, the data dir and database options, the
settings they make, and running an action on the database (what it cannot do is exit 2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from pipehouse.config import Settings, SettingsError

if TYPE_CHECKING:  # imported where used: `pipehouse --help` stays quick
    from pipehouse.store.db import Database

T = TypeVar("T")

err = Console(stderr=True, highlight=False)

DATA_DIR = typer.Option(
    None,
    "--data-dir",
    envvar="PIPEHOUSE_DATA_DIR",
    help="Where the SQLite database and caches live (default ./.pipehouse).",
)
DATABASE_URL = typer.Option(
    None,
    "--database-url",
    envvar="PIPEHOUSE_DATABASE_URL",
    help="A PostgreSQL URL to use instead of the embedded SQLite.",
)


def settings_from(data_dir: Path | None, database_url: str | None, **extra: object) -> Settings:
    """The settings of PIPEHOUSE_* variables and `extra`, with the command's own options."""
    try:
        settings = Settings(**extra)
    except SettingsError as exc:
        bad_settings(exc)
    if data_dir is not None:
        settings.data_dir = data_dir
    if database_url is not None:
        settings.database_url = database_url
    return settings


def bad_settings(error: SettingsError) -> NoReturn:
    """A setting that does not parse: the message, exit status 2."""
    err.print(f"[red]error:[/] {escape(str(error))}")
    raise typer.Exit(2) from error


def on_database(
    data_dir: Path | None, database_url: str | None, action: Callable[[Database], Awaitable[T]]
) -> T:
    """Run `action(db)` on the database; what the command cannot do is exit status 2."""
    import asyncio

    from pipehouse.console.database import CommandError, with_database
    from pipehouse.store.db import MissingDriver

    try:
        return asyncio.run(with_database(settings_from(data_dir, database_url), action))
    except (CommandError, MissingDriver) as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc
