"""Which upstream serves which model: the connections' listings, merged, cached and resilient.

One dead or slow upstream must never break `/v1/models` or the models of the others, so each
connection is listed on its own (concurrently), failures are logged and remembered for the
cache's lifetime, and a connection keeps offering its last good listing while it is down.

Every proxied request asks `find`: while the listings are fresh it answers from an index built
once per change of the listings, with no task, lock or listing touched (an upstream listing
hundreds of models would otherwise cost a dict per model per request).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pipehouse.upstream.client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    UpstreamClient,
    UpstreamError,
)
from pipehouse.upstream.connections import Connection
from pipehouse.upstream.http import UpstreamHTTP

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UpstreamModel:
    client: UpstreamClient
    upstream_id: str
    model: dict[str, Any]  # as `models()` lists it


@dataclass(slots=True)
class _Listing:
    models: list[dict[str, Any]] | None = None  # the last good listing; None until one succeeds
    checked_at: float | None = None  # when it was last attempted, successfully or not
    failed: bool = False
    attempts: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class UpstreamRegistry:
    """The current connections, one shared HTTP pool, and a TTL cache of their model lists."""

    def __init__(
        self,
        connections: Iterable[Connection] = (),
        *,
        ttl: float = 60.0,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float | None = DEFAULT_READ_TIMEOUT,
        http: UpstreamHTTP | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._owns_http = http is None
        self._http = http or UpstreamHTTP()
        self._clock = clock
        self._connections: list[Connection] = []
        self._clients: dict[str, UpstreamClient] = {}
        self._listings: dict[str, _Listing] = {}
        self._listed: list[Connection] = []  # enabled, without an allow-list: listed to know
        self._by_id: dict[str, dict[str, Any]] | None = None  # `_index()`, until a change
        self._reported_duplicates: set[tuple[str, str]] = set()
        self.set_connections(list(connections))

    @property
    def connections(self) -> list[Connection]:
        return list(self._connections)

    def set_connections(self, connections: list[Connection]) -> None:
        """Replace the connections; listings survive only for connections that did not change."""
        previous = {c.id: c for c in self._connections}
        self._connections = list(connections)
        self._clients = {
            c.id: UpstreamClient(
                c,
                self._http,
                connect_timeout=self._connect_timeout,
                read_timeout=self._read_timeout,
            )
            for c in connections
        }
        self._listings = {
            c.id: self._listings[c.id]
            for c in connections
            if c.id in self._listings and previous.get(c.id) == c
        }
        self._listed = [c for c in connections if c.enabled and not c.models]
        self._by_id = None

    async def models(self) -> list[dict[str, Any]]:
        """Every model of every enabled connection, as OpenAI model objects with public ids."""
        await self._refresh(self._enabled())
        return [dict(model) for model in self._index().values()]  # the caller's to extend

    async def find(self, model_id: str) -> UpstreamModel | None:
        """The connection serving this public id. An unknown id triggers one fresh listing (the
        model may have just been pulled) before the answer is None."""
        listed = self._listed  # allow-lists need no listing
        if not self._fresh(listed):
            await self._refresh(listed)
        model = self._index().get(model_id)
        if model is None:
            await self._refresh(listed, force=True)
            model = self._index().get(model_id)
        if model is None:
            return None
        client = self._clients[model["connection"]]
        return UpstreamModel(client, model["upstream_id"], dict(model))  # the turn's to pass on

    async def close(self) -> None:
        if self._owns_http:
            await self._http.close()

    # -- listings ---------------------------------------------------------------------------------
    def _enabled(self) -> list[Connection]:
        return [c for c in self._connections if c.enabled]

    def _fresh(self, connections: list[Connection]) -> bool:
        """Whether every one of these was listed (or tried) within the TTL: nothing to do."""
        now = self._clock()
        for connection in connections:
            listing = self._listings.get(connection.id)
            if listing is None or listing.checked_at is None:
                return False
            if now - listing.checked_at >= self._ttl:
                return False
        return True

    async def _refresh(self, connections: list[Connection], *, force: bool = False) -> None:
        await asyncio.gather(*(self._refresh_one(c, force) for c in connections))

    async def _refresh_one(self, connection: Connection, force: bool) -> None:
        listing = self._listings.setdefault(connection.id, _Listing())
        attempts_seen = listing.attempts
        async with listing.lock:
            if listing.attempts != attempts_seen:
                return  # listed by someone else while this call waited for the lock
            if listing.checked_at is not None:
                fresh = self._clock() - listing.checked_at < self._ttl
                # A forced refresh still spares a connection that just failed: retrying it
                # would make every unknown model id wait for the same dead upstream.
                if fresh and (not force or listing.failed):
                    return
            client = self._clients.get(connection.id)
            if client is None or client.connection != connection:
                return  # replaced by set_connections while this call waited
            try:
                listing.models = await client.list_models()
                listing.failed = False
                self._by_id = None
            except UpstreamError as exc:
                log.warning("listing the models of upstream %r failed: %s", connection.id, exc)
                listing.failed = True
            listing.checked_at = self._clock()
            listing.attempts += 1

    def _index(self) -> dict[str, dict[str, Any]]:
        """Public id -> model object, from the listings at hand (no I/O); first connection wins.
        Built again only after a listing or the connections changed."""
        if self._by_id is None:
            self._by_id = self._build_index()
        return self._by_id

    def _build_index(self) -> dict[str, dict[str, Any]]:
        index: dict[str, dict[str, Any]] = {}
        for connection in self._enabled():
            for upstream in self._offered(connection):
                model = _public_model(connection, upstream)
                winner = index.get(model["id"])
                if winner is None:
                    index[model["id"]] = model
                elif (model["id"], connection.id) not in self._reported_duplicates:
                    self._reported_duplicates.add((model["id"], connection.id))
                    log.warning(
                        "upstream %r also offers model %r; upstream %r serves it",
                        connection.id,
                        model["id"],
                        winner["connection"],
                    )
        return index

    def _offered(self, connection: Connection) -> list[dict[str, Any]]:
        """The upstream model objects a connection offers. An allow-list is offered even while
        the upstream cannot list (its ids are known); listing only adds names and owners."""
        listing = self._listings.get(connection.id)
        listed = (listing.models if listing else None) or []
        if not connection.models:
            return listed
        by_id = {m["id"]: m for m in listed}
        return [by_id.get(upstream_id, {"id": upstream_id}) for upstream_id in connection.models]


def _public_model(connection: Connection, upstream: dict[str, Any]) -> dict[str, Any]:
    upstream_id = str(upstream["id"])
    created = upstream.get("created")
    return {
        "id": connection.public_id(upstream_id),
        "object": "model",
        "name": upstream.get("name") or upstream_id,
        "created": created if isinstance(created, int) else 0,
        "owned_by": upstream.get("owned_by") or "openai",
        "connection": connection.id,
        "upstream_id": upstream_id,
    }
