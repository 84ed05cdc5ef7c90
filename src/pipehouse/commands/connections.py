"""`pipehouse connections`: upstream connections stored in the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from pipehouse.commands.shared import DATA_DIR, DATABASE_URL, err, on_database

if TYPE_CHECKING:  # imported where used: `pipehouse --help` stays quick
    from pipehouse.store.connections import ConnectionStore

T = TypeVar("T")

connections_app = typer.Typer(
    help="Upstream connections (OpenAI-compatible servers) stored in the database: add, list, "
    "remove. A running server applies changes at its next start.",
    no_args_is_help=True,
)


def _connections(
    data_dir: Path | None,
    database_url: str | None,
    action: Callable[[ConnectionStore], Awaitable[T]],
) -> T:
    from pipehouse.store.connections import ConnectionStore

    return on_database(data_dir, database_url, lambda db: action(ConnectionStore(db)))


@connections_app.command("add")
def connections_add(
    url: str = typer.Argument(..., help="The base URL, e.g. http://127.0.0.1:11434/v1"),
    connection_id: str | None = typer.Option(
        None, "--id", help="The connection's id (default: made from the host and port)."
    ),
    key_env: str | None = typer.Option(
        None, "--key-env", help="Read the API key from this environment variable (preferred)."
    ),
    key: str | None = typer.Option(
        None, "--key", help="The API key itself (visible in `ps` and shell history)."
    ),
    prefix: str | None = typer.Option(
        None, "--prefix", help="List its models as PREFIX.MODEL (Open WebUI's prefix_id)."
    ),
    model: list[str] = typer.Option(
        [], "--model", "-m", help="Offer only this model id (repeatable; default: all)."
    ),
    disabled: bool = typer.Option(False, "--disabled", help="Store it switched off."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Store a connection and print its id.

    Example: OLLAMA_KEY=... pipehouse connections add http://127.0.0.1:11434/v1 --key-env OLLAMA_KEY
    """
    from pipehouse.console import connections

    print(
        _connections(
            data_dir,
            database_url,
            lambda store: connections.add(
                store,
                url,
                connection_id=connection_id,
                key=key,
                key_env=key_env,
                prefix=prefix,
                models=model,
                enabled=not disabled,
            ),
        )
    )


@connections_app.command("list")
def connections_list(
    data_dir: Path | None = DATA_DIR, database_url: str | None = DATABASE_URL
) -> None:
    """List stored connections and whether each has a key (never the key itself)."""
    from pipehouse.console import accounts, connections

    accounts.print_table(_connections(data_dir, database_url, connections.table))


@connections_app.command("remove")
def connections_remove(
    connection_id: str = typer.Argument(..., help="The connection's id (from `list`)."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Remove a stored connection."""
    from pipehouse.console import connections

    if not _connections(data_dir, database_url, lambda s: connections.remove(s, connection_id)):
        err.print(f"[red]error:[/] no stored connection {connection_id}")
        raise typer.Exit(1)
    err.print(f"removed {connection_id}")
