"""The executor boundary: the interface every call into plugin code goes through
(docs/architecture.md, "The executor boundary").

Above this line nothing touches a plugin instance: callers hand over plain data (the body, the
user dict, metadata, stored valves) and get plain data back, or async iterators of it. That keeps
plugins free to run anywhere: `InProcessExecutor` (runtime/inprocess.py) runs them in this
process, `ProcessExecutor` (runtime/workers/executor.py) in worker processes with their own
environments.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind
from pipehouse.runtime.action_result import ActionResult
from pipehouse.runtime.events import Host, NullHost
from pipehouse.runtime.items import Item


@dataclass
class PluginSource:
    """A plugin's code and where it came from, plus the environment it runs in."""

    id: str
    source: str
    path: str | None = None
    kind: PluginKind | None = None
    environment: Path | None = None
    """A directory of the packages this plugin needs beyond the host's (built by
    `pipehouse.envs`); None runs it on the host's packages alone."""


@dataclass(slots=True)
class CallContext:
    """Everything a plugin call may be given besides its main argument; plain data plus a host."""

    user: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    host: Host = field(default_factory=NullHost)
    valves: Mapping[str, Any] | None = None
    user_valves: Mapping[str, Any] | None = None
    model: dict[str, Any] | None = None
    request: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PipeResult:
    """A pipe's answer: either one value (str, dict, None, ...) or a stream of items. A stream
    may give a list of items where several arrived at once (a worker's batch): handing them on
    together saves a generator step per item, and an item is never itself a list."""

    value: Any = None
    stream: AsyncIterator[Item | list[Item]] | None = None


@dataclass(slots=True)
class InletsThenPipe:
    """What one call running a request's inlet chain and then its pipe gave back
    (`Executor.call_inlets_then_pipe`): the body as the last inlet left it, which inlet changed
    `body["model"]` (index into the chain), and the pipe's answer, or the error it failed with.
    `answer` and `error` are both None when the pipe was not called: an inlet routed the request
    to another model or named tools, which the server has to prepare first."""

    body: dict[str, Any]
    routed_by: int | None = None
    answer: PipeResult | None = None
    error: BaseException | None = None


class Executor(Protocol):
    async def load(self, source: PluginSource) -> PluginInfo: ...

    async def unload(self, plugin_id: str) -> None: ...

    async def models(self, plugin_id: str, call: CallContext) -> list[dict[str, Any]]: ...

    async def call_pipe(
        self, plugin_id: str, body: dict[str, Any], call: CallContext
    ) -> PipeResult: ...

    async def call_filter(
        self, plugin_id: str, hook: str, body: dict[str, Any], call: CallContext
    ) -> Any: ...

    def filter_stream(
        self, plugin_ids: list[str], items: AsyncIterator[dict[str, Any]], calls: list[CallContext]
    ) -> AsyncIterator[dict[str, Any]]: ...

    def fusable(self, plugin_ids: list[str]) -> bool:
        """Whether one call can run these plugins' hooks in turn (`call_inlets_then_pipe`):
        worth it only where a call costs a round trip to another process."""
        ...

    async def call_inlets_then_pipe(
        self,
        inlets: list[tuple[str, CallContext]],
        body: dict[str, Any],
        pipe: tuple[str, CallContext],
        *,
        handles_files: bool,
    ) -> InletsThenPipe | None:
        """The inlet chain and then the pipe in one call, with the turn's rules between them
        (turn.py); None when they cannot share one call now (`fusable` changed)."""
        ...

    async def call_tool(
        self, plugin_id: str, name: str, arguments: dict[str, Any], call: CallContext
    ) -> Any: ...

    async def call_action(
        self,
        plugin_id: str,
        body: dict[str, Any],
        call: CallContext,
        *,
        sub_action_id: str | None = None,
    ) -> ActionResult: ...

    async def validate_valves(
        self, plugin_id: str, values: Mapping[str, Any], *, user: bool = False
    ) -> dict[str, Any]: ...

    async def parse_valves(
        self, plugin_id: str, assignments: list[str], *, user: bool = False
    ) -> dict[str, Any]: ...

    async def valves_schema(
        self, plugin_id: str, *, user: bool = False, for_user: dict[str, Any] | None = None
    ) -> dict[str, Any] | None: ...

    async def secret_values(self, plugin_id: str) -> set[str]: ...

    async def close(self) -> None: ...
