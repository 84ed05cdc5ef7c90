"""Every secret value the server holds for its plugins and upstreams, gathered into a `Redactor`
when an error is about to leave (a response, a stream frame, an event, a log line).

Gathered from all loaded plugins, not only the one that failed: a filter may quote what a pipe
put in the body, and one extra lookup per plugin on the error path costs nothing a successful
request pays. The sources: stored admin valves, the user valves of every user held in memory
(the caller's among them), what each live instance holds (defaults, values set in `__init__`,
read through the executor), and the upstream connections' API keys.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipehouse.plugin.valves import secrets_in, url_passwords
from pipehouse.redaction import Redactor
from pipehouse.runtime.catalog import Catalog, ValvesSource
from pipehouse.runtime.executor import Executor
from pipehouse.upstream.registry import UpstreamRegistry


async def gather_redactor(
    catalog: Catalog,
    store: ValvesSource,
    executor: Executor,
    upstreams: UpstreamRegistry | None = None,
    extra: Iterable[str] = (),
) -> Redactor:
    """A redactor that knows every secret value of every loaded plugin and upstream."""
    secrets = set(extra)
    for entry in catalog:
        info = entry.info
        secrets |= await executor.secret_values(info.id)
        if info.has_valves:
            secrets |= secrets_in(await store.valves(info.id), info.secret_valves)
        if info.has_user_valves:
            for values in store.known_user_valves(info.id):
                secrets |= secrets_in(values, info.secret_user_valves)
    for connection in upstreams.connections if upstreams is not None else ():
        if connection.api_key:
            secrets.add(connection.api_key)
        secrets.update(url_passwords(connection.base_url))
    return Redactor(secrets)
