"""A request's tools: the toolkits a chat names in `tool_ids`, offered to a model and to a pipe.

Open WebUI turns every public method of each selected toolkit into an OpenAI function spec
(renaming a later toolkit's clashing function `<tool_id>_<name>`), hands a pipe the same functions
as `__tools__`, and runs the `tool_calls` a model answers with, turning every failure into a tool
result the model can read rather than an error for the client (Open WebUI 0.12.4 utils/tools.py).

This module sits above the executor line: it holds plugin ids, specs and call contexts, never a
plugin instance; every call goes through `Executor.call_tool`. Unlike Open WebUI, which runs a
turn's tool calls one after another, `ToolSet.execute` runs them concurrently.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.responses import HTMLResponse

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.kinds import PluginKind
from pipehouse.plugin.tool_specs import runtime_spec
from pipehouse.runtime.embeds import embed_notice
from pipehouse.runtime.errors import RequestError

if TYPE_CHECKING:
    from pipehouse.plugin.info import PluginInfo
    from pipehouse.redaction import Redactor
    from pipehouse.runtime.catalog import Catalog
    from pipehouse.runtime.events import Host
    from pipehouse.runtime.executor import CallContext, Executor

log = logging.getLogger(__name__)

ContextFor = Callable[["PluginInfo"], Awaitable["CallContext"]]

_ERROR_PREFIXES = ("error:", "exception:", "traceback", "http error!")


@dataclass(frozen=True, slots=True)
class Tool:
    """One function a model may call: the name it is offered under and where it lives."""

    name: str  # as offered; differs from `method` after a name clash
    tool_id: str
    method: str
    spec: dict[str, Any]  # the runtime spec, carrying `name`
    citation: bool
    file_handler: bool


class _Docstring:
    """Stands in for the method when applying `runtime_spec`: only plain data crosses the
    executor line, so the method's docstring comes from its `PluginInfo`."""

    def __init__(self, text: str | None) -> None:
        self.__doc__ = text


def offered_tools(infos: Iterable[PluginInfo]) -> list[Tool]:
    """Every toolkit's functions in order, a later clashing name renamed as Open WebUI does."""
    tools: dict[str, Tool] = {}
    for info in infos:
        for stored in info.tool_specs:
            spec = runtime_spec(stored, _Docstring(info.tool_docstrings.get(stored["name"])))
            name = spec["name"]
            while name in tools:
                name = f"{info.id}_{name}"
            tools[name] = Tool(
                name=name,
                tool_id=info.id,
                method=stored["name"],
                spec={**spec, "name": name},
                citation=info.citation,
                file_handler=info.file_handler,
            )
    return list(tools.values())


class ToolSet:
    """The tools of one request; build it with `ToolSet.build`."""

    def __init__(
        self,
        executor: Executor,
        tools: list[Tool],
        calls: Mapping[str, CallContext],
        *,
        messages: list[dict[str, Any]] | None = None,
    ) -> None:
        self.executor = executor
        self.messages = messages or []  # what `__messages__` holds unless a call says otherwise
        self._tools = {tool.name: tool for tool in tools}
        self._calls = dict(calls)
        # what hides secrets in a failed tool's words (they reach the model, events and logs)
        self.redactor: Callable[[], Awaitable[Redactor]] | None = None

    @classmethod
    async def build(
        cls,
        tool_ids: Iterable[str],
        catalog: Catalog,
        executor: Executor,
        context_for: ContextFor,
        *,
        messages: list[dict[str, Any]] | None = None,
    ) -> ToolSet:
        """Look the toolkits up and prepare one call context each (valves are read once per
        request, as Open WebUI reads them once per turn). Unknown ids are a `RequestError`: a
        client that asks for a tool that does not exist should hear so."""
        wanted = list(tool_ids)
        if not all(isinstance(tool_id, str) for tool_id in wanted):
            raise RequestError("'tool_ids' must be a list of strings")
        wanted = list(dict.fromkeys(wanted))
        entries = {tool_id: catalog.get(tool_id) for tool_id in wanted}
        unknown = [
            tool_id
            for tool_id, entry in entries.items()
            if entry is None or entry.info.kind is not PluginKind.TOOLS
        ]
        if unknown:
            names = ", ".join(f"'{tool_id}'" for tool_id in unknown)
            raise RequestError(f"Unknown tool id{'s' if len(unknown) > 1 else ''}: {names}")
        infos = [entry.info for entry in entries.values() if entry is not None]
        calls = {info.id: await context_for(info) for info in infos}
        return cls(executor, offered_tools(infos), calls, messages=messages)

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def specs(self) -> list[dict[str, Any]]:
        """The `tools` list of a chat completion request."""
        return [{"type": "function", "function": tool.spec} for tool in self._tools.values()]

    def as_dunder_tools(self) -> dict[str, dict[str, Any]]:
        """Open WebUI's `__tools__` (and `metadata["tools"]`): callables a pipe can await."""
        return {
            name: {
                "tool_id": tool.tool_id,
                "callable": self._callable(tool),
                "spec": tool.spec,
                "metadata": {"file_handler": tool.file_handler, "citation": tool.citation},
            }
            for name, tool in self._tools.items()
        }

    def _callable(self, tool: Tool) -> Callable[..., Awaitable[Any]]:
        async def call(**arguments: Any) -> Any:
            return await self.call(tool.name, arguments)

        call.__name__ = call.__qualname__ = tool.name
        call.__doc__ = tool.spec.get("description")
        return call

    async def call(
        self,
        name: str,
        arguments: Mapping[str, Any],
        *,
        host: Host | None = None,
        messages: list[dict[str, Any]] | None = None,
    ) -> Any:
        """What the tool offered as `name` returns (raises `PluginError` when it fails)."""
        tool = self._tools.get(name)
        if tool is None:
            raise KeyError(f'Tool "{name}" not found.')
        base = self._calls[tool.tool_id]
        current = self.messages if messages is None else messages
        call = dataclasses.replace(
            base, host=host or base.host, extra={**base.extra, "__messages__": current}
        )
        return await self.executor.call_tool(tool.tool_id, tool.method, dict(arguments), call)

    async def execute(
        self,
        tool_calls: list[dict[str, Any]],
        host: Host,
        *,
        messages: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """Run a model's `tool_calls` concurrently; one `role: tool` message per call, in order.

        Never raises for a tool's sake: bad arguments, unknown names and exceptions become
        the tool's result text, as Open WebUI reports them to the model."""
        results = await asyncio.gather(
            *(self._run_one(tool_call, host, messages) for tool_call in tool_calls)
        )
        return [
            {"role": "tool", "tool_call_id": call_id, "content": content}
            for call_id, content in results
        ]

    async def _run_one(
        self, tool_call: dict[str, Any], host: Host, messages: list[dict[str, Any]] | None
    ) -> tuple[str, str]:
        tool_call = tool_call if isinstance(tool_call, dict) else {}
        call_id = tool_call.get("id") or f"call_{uuid.uuid4().hex}"
        function = tool_call.get("function")
        function = function if isinstance(function, dict) else {}
        name = function.get("name") or ""
        arguments = parse_arguments(function.get("arguments"))
        if arguments is None:
            return call_id, (
                "Error: Tool call arguments could not be parsed. The model generated malformed "
                f"or incomplete JSON for `{name}`. Please try again."
            )
        if not isinstance(arguments, dict):
            return call_id, (
                f"Error: Tool call arguments for `{name}` must be a JSON object. Please try again."
            )
        tool = self._tools.get(name)
        if tool is None:
            return call_id, f'Error: Tool "{name}" not found.'
        await host.emit(_status(f"Executing {name}...", done=False))
        try:
            value = await self.call(name, arguments, host=host, messages=messages)
        except PluginError as exc:
            if self.redactor is not None:
                exc = (await self.redactor()).error(exc)
            log.warning("tool %s failed: %s", name, exc)
            value = {"error": exc.message}  # the tool's own words, not the server's paths
        except Exception as exc:
            said = str(exc) if self.redactor is None else (await self.redactor()).text(str(exc))
            log.warning("tool %s failed: %s", name, said)
            value = {"error": said}
        text, failed = tool_result_text(value, name=name)
        embed = inline_html(value)
        if embed is not None:
            await host.emit({"type": "embeds", "data": {"embeds": [embed]}})
        if tool.citation and text:
            await host.emit({"type": "source", "data": _source(tool, text)})
        await host.emit(_status(f"View Result from {name}", done=True, failed=failed))
        return call_id, text


def parse_arguments(raw: Any) -> Any:
    """The model's arguments string as a value: JSON, else a Python literal (as Open WebUI
    accepts), `{}` when empty, None when it cannot be read."""
    if isinstance(raw, dict):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        pass
    try:
        return ast.literal_eval(raw)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _status(description: str, *, done: bool, failed: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"description": description, "done": done}
    if failed:
        data["error"] = True
    return {"type": "status", "data": data}


def _source(tool: Tool, text: str) -> dict[str, Any]:
    """The source Open WebUI emits for a tool result in native mode (its fallback shape)."""
    return {
        "source": {"name": tool.name, "type": "tool", "id": tool.tool_id},
        "document": [text],
        "metadata": [{"source": tool.name, "name": tool.name}],
    }


def _html_and_context(value: Any) -> tuple[HTMLResponse | None, Any]:
    """`(HTMLResponse, context)` tuples carry what the model should read about the embed."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], HTMLResponse):
        return value[0], value[1]
    return (value, None) if isinstance(value, HTMLResponse) else (None, None)


def _is_inline(response: HTMLResponse) -> bool:
    return "inline" in response.headers.get("content-disposition", "")


def inline_html(value: Any) -> str | None:
    """The page an `HTMLResponse` with `Content-Disposition: inline` asks the UI to embed."""
    response, _ = _html_and_context(value)
    if response is None or not _is_inline(response):
        return None
    return bytes(response.body).decode("utf-8", "replace")


def _to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def tool_result_text(value: Any, name: str = "tool") -> tuple[str, bool]:
    """A tool's return value as the text the model reads, and whether it counts as failed.

    str as-is; list -> `{"results": [...]}`; dict -> indented JSON; tuple -> JSON of its first
    item; an inline `HTMLResponse` -> Open WebUI's notice (the page itself goes to the client
    as an `embeds` event, see `inline_html`), another `HTMLResponse` -> its body; None -> "";
    anything else -> `str()`."""
    response, context = _html_and_context(value)
    if response is not None:
        value = (
            embed_notice(name, response.status_code, context)
            if _is_inline(response)
            else bytes(response.body).decode("utf-8", "replace")
        )
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, list):
        text = _to_json({"results": value})
    elif isinstance(value, dict):
        text = _to_json(value)
    elif isinstance(value, tuple):
        text = _to_json(value[0]) if value else ""
    else:
        text = str(value)
    return text, is_error_result(text)


def _non_empty(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, dict | list) and bool(value)


def is_error_result(text: str) -> bool:
    """Open WebUI's rule for a failed tool result: an error-like prefix, or JSON that says so."""
    if text.strip().lower().startswith(_ERROR_PREFIXES):
        return True
    parsed: Any = text
    while isinstance(parsed, str):  # a JSON string may hold JSON again
        try:
            parsed = json.loads(parsed)
        except ValueError:
            break
    if not isinstance(parsed, dict):
        return False
    if _non_empty(parsed.get("error")):
        return True
    status = parsed.get("status")
    if isinstance(status, str) and status.strip().lower() in ("error", "failed"):
        return True
    if parsed.get("success") is False or parsed.get("ok") is False:
        return _non_empty(parsed.get("message"))
    return False
