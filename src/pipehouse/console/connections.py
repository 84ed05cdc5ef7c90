"""`pipehouse connections ...`: stored upstream connections, managed straight in the database.

A running server reads stored connections when it starts (and after each change through its
API), so changes made here apply at its next start. Keys are never printed.
"""

from __future__ import annotations

import datetime as dt
import os

from rich.table import Column, Table

from pipehouse.console.database import CommandError
from pipehouse.service.connections import checked_base_url, checked_id, checked_models, new_id
from pipehouse.store.connections import ConnectionStore


class ConnectionsError(CommandError):
    """Something the command cannot do (exit status 2)."""


async def add(
    store: ConnectionStore,
    url: str,
    *,
    connection_id: str | None,
    key: str | None,
    key_env: str | None,
    prefix: str | None,
    models: list[str],
    enabled: bool,
) -> str:
    """Store a new connection; returns its id. The key comes from `key_env`, the name of an
    environment variable (nothing secret on the command line), or `key` itself."""
    if key is not None and key_env is not None:
        raise ConnectionsError("give the key once: --key-env VAR or --key KEY")
    if key_env is not None:
        key = os.environ.get(key_env)
        if not key:
            raise ConnectionsError(f"--key-env {key_env}: the variable is not set")
    try:
        base_url = checked_base_url(url)
        if connection_id is not None:
            checked_id(connection_id)
    except ValueError as exc:
        raise ConnectionsError(str(exc)) from exc
    taken = {row.id for row in await store.all()}
    if connection_id in taken:
        raise ConnectionsError(
            f"a connection with id '{connection_id}' already exists; "
            f"remove it first with `pipehouse connections remove {connection_id}`"
        )
    connection_id = connection_id or new_id(base_url, taken)
    await store.upsert(
        connection_id,
        base_url=base_url,
        api_key=(key or "").strip() or None,
        prefix=(prefix or "").strip() or None,
        models=checked_models(models),
        enabled=enabled,
    )
    return connection_id


async def table(store: ConnectionStore) -> Table:
    listing = Table(
        Column("id", overflow="fold"),  # whole, to copy into `remove`
        Column("base url", overflow="fold"),
        "prefix",
        "models",
        "enabled",
        "key",
        "created",
        show_edge=False,
    )
    for row in await store.all():
        listing.add_row(
            row.id,
            row.base_url,
            row.prefix or "-",
            ", ".join(row.models or []) or "all",
            "yes" if row.enabled else "no",
            "set" if row.api_key else "-",
            dt.datetime.fromtimestamp(row.created_at, dt.UTC).strftime("%Y-%m-%d %H:%M"),
            style=None if row.enabled else "dim",
        )
    return listing


async def remove(store: ConnectionStore, connection_id: str) -> bool:
    return await store.delete(connection_id)
