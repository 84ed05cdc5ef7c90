"""The upstream connections a server uses: from Open WebUI's environment variables, from
`serve --upstream`, and stored by admins, merged by id (stored wins) and pushed into the upstream
registry at start and after every change made here.

Only stored connections can be changed through the API: the others come from the server's own
configuration, so an API change would silently vanish at the next start. Keys never leave: a
view shows `"api_key": "********"` when one is set (the valves convention), and posting that
mask back keeps the stored key.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from pipehouse.config import Settings
from pipehouse.service.errors import ServiceError
from pipehouse.store.connections import ConnectionStore
from pipehouse.store.models import StoredConnection
from pipehouse.upstream.connections import Connection, connections_from_env

log = logging.getLogger(__name__)

MASK = "********"
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
WHERE_FROM = {
    "env": "the environment (OPENAI_API_BASE_URLS or OPENAI_API_BASE_URL)",
    "cli": "the server's configuration (--upstream or PIPEHOUSE_UPSTREAMS)",
}


class ConnectionSink(Protocol):
    """Where the merged connections go: `pipehouse.upstream.registry.UpstreamRegistry`."""

    def set_connections(self, connections: list[Connection]) -> None: ...


def checked_base_url(raw: str) -> str:
    """An http(s) URL with a host, without the trailing slash; ValueError otherwise."""
    url = raw.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "must be an http:// or https:// URL with a host, like http://127.0.0.1:11434/v1"
        )
    return url


def checked_id(raw: str) -> str:
    if not ID_PATTERN.fullmatch(raw):
        raise ValueError(
            "use up to 64 letters, digits, '-' and '_', starting with a letter or digit"
        )
    return raw


def checked_models(raw: Iterable[str]) -> list[str]:
    """Model ids without blanks and repeats, in the order given."""
    return list(dict.fromkeys(m.strip() for m in raw if m.strip()))


def new_id(base_url: str, taken: Collection[str]) -> str:
    """A readable id from the URL's host and port ("127-0-0-1-11434"), unique among `taken`."""
    parts = urlsplit(base_url)
    stem = re.sub(r"[^a-z0-9]+", "-", f"{parts.hostname}-{parts.port or ''}".lower()).strip("-")
    stem = stem[:56] or "connection"
    candidate, number = stem, 2
    while candidate in taken:
        candidate, number = f"{stem}-{number}", number + 1
    return candidate


def cli_connections(settings: Settings) -> list[Connection]:
    """`serve --upstream URL` (or PIPEHOUSE_UPSTREAMS), keyed by position from
    PIPEHOUSE_UPSTREAM_KEYS, with ids `cli-0`, `cli-1`, ..."""
    found = []
    for index, url in enumerate(settings.upstreams):
        if not url.strip():
            continue
        key = settings.upstream_keys[index] if index < len(settings.upstream_keys) else ""
        found.append(
            Connection(
                id=f"cli-{index}",
                base_url=url.strip().rstrip("/"),
                api_key=key.strip() or None,
                source="cli",
            )
        )
    return found


def stored_connection(row: StoredConnection) -> Connection:
    return Connection(
        id=row.id,
        base_url=row.base_url,
        api_key=row.api_key,
        prefix=row.prefix,
        models=tuple(row.models or ()),
        enabled=row.enabled,
        source="stored",
    )


def public_view(connection: Connection, row: StoredConnection | None = None) -> dict[str, Any]:
    """What the API shows: everything but the key, with where the connection comes from."""
    return {
        "id": connection.id,
        "base_url": connection.base_url,
        "api_key": MASK if connection.api_key else None,
        "prefix": connection.prefix,
        "models": list(connection.models),
        "enabled": connection.enabled,
        "source": connection.source,
        "created_at": row.created_at if row is not None else None,
        "updated_at": row.updated_at if row is not None else None,
    }


def not_found(connection_id: str) -> ServiceError:
    return ServiceError(404, f"No connection with id '{connection_id}'")


class ConnectionService:
    def __init__(
        self,
        settings: Settings,
        store: ConnectionStore,
        registry: ConnectionSink,
        environ: Mapping[str, str],
    ) -> None:
        self.store = store
        self.registry = registry
        # read once: like any server setting, they change with a restart
        configured = [*connections_from_env(environ), *cli_connections(settings)]
        self.configured = {c.id: c for c in configured}
        self._lock = asyncio.Lock()
        # tells other replicas what changed (service/replication.py); set by the app
        self.announce: Callable[[str, str], Awaitable[None]] | None = None

    async def start(self) -> None:
        await self._publish()

    async def refresh(self, _: str = "") -> None:
        """Another replica changed the stored connections: use what the database holds now."""
        async with self._lock:
            await self._publish()

    async def connections(self) -> list[Connection]:
        """Every connection, disabled ones included: env, CLI, then stored ones by id."""
        return self._merge(await self.store.all())

    async def overview(self) -> list[dict[str, Any]]:
        rows = await self.store.all()
        by_id = {row.id: row for row in rows}
        return [public_view(c, by_id.get(c.id)) for c in self._merge(rows)]

    async def view(self, connection_id: str) -> dict[str, Any]:
        row = await self.store.get(connection_id)
        if row is not None:
            return public_view(stored_connection(row), row)
        if connection_id in self.configured:
            return public_view(self.configured[connection_id])
        raise not_found(connection_id)

    async def create(
        self,
        connection_id: str | None,
        *,
        base_url: str,
        api_key: str | None = None,
        prefix: str | None = None,
        models: list[str] | None = None,
        enabled: bool = True,
    ) -> dict[str, Any]:
        """A new stored connection (409 for an id in use); without an id, one from the URL."""
        async with self._lock:
            taken = {*self.configured, *(row.id for row in await self.store.all())}
            if connection_id is None:
                connection_id = new_id(base_url, taken)
            elif connection_id in taken:
                raise ServiceError(409, f"A connection with id '{connection_id}' already exists")
            row = await self.store.upsert(
                connection_id,
                base_url=base_url,
                api_key=api_key or None,
                prefix=prefix or None,
                models=models or [],
                enabled=enabled,
            )
            await self._changed()
        log.info("connection %s added", connection_id)
        return public_view(stored_connection(row), row)

    async def update(self, connection_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change the fields in `changes`; a missing or masked `api_key` keeps the stored one."""
        changes = dict(changes)
        if changes.get("api_key") == MASK:
            del changes["api_key"]
        async with self._lock:
            row = await self._writable(connection_id)
            fields: dict[str, Any] = {  # the edited row, checked field by field by `upsert`
                "base_url": row.base_url,
                "api_key": row.api_key,
                "prefix": row.prefix,
                "models": list(row.models or []),
                "enabled": row.enabled,
            }
            fields.update(changes)
            fields["api_key"] = fields["api_key"] or None
            fields["prefix"] = fields["prefix"] or None
            row = await self.store.upsert(connection_id, **fields)
            await self._changed()
        log.info("connection %s changed (%s)", connection_id, ", ".join(sorted(changes)) or "-")
        return public_view(stored_connection(row), row)

    async def delete(self, connection_id: str) -> None:
        async with self._lock:
            await self._writable(connection_id)
            await self.store.delete(connection_id)
            await self._changed()
        log.info("connection %s removed", connection_id)

    async def _writable(self, connection_id: str) -> StoredConnection:
        row = await self.store.get(connection_id)
        if row is not None:
            return row
        configured = self.configured.get(connection_id)
        if configured is not None:
            raise ServiceError(
                403,
                f"'{connection_id}' comes from {WHERE_FROM[configured.source]}; "
                "change it there and restart the server",
            )
        raise not_found(connection_id)

    def _merge(self, rows: Iterable[StoredConnection]) -> list[Connection]:
        merged = dict(self.configured)
        merged.update((row.id, stored_connection(row)) for row in rows)
        return list(merged.values())

    async def _publish(self) -> None:
        """All of them, disabled ones too: the registry offers models of enabled ones only."""
        self.registry.set_connections(await self.connections())

    async def _changed(self) -> None:
        await self._publish()
        if self.announce is not None:
            await self.announce("connections", "")
