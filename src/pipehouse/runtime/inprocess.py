"""(Over 500 lines: one concept, plugins run in this process; loading, valves and calls share
one instance cache, thread pool, deadline set and observer.)
`InProcessExecutor`: the `Executor` (runtime/executor.py) that runs plugins in this process.

The server uses it for plugins in the `inline` mode, and every worker process runs one for the
plugins it serves (runtime/workers/main.py), so the rules for calling a plugin (valves,
injected arguments, timeouts) are the same in either mode. Sync plugin code runs on a bounded
thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from starlette.responses import StreamingResponse

from pipehouse.plugin import valves as valves_rules
from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.handlers import Handler
from pipehouse.plugin.info import PluginInfo, describe
from pipehouse.plugin.kinds import PluginKind
from pipehouse.plugin.loader import LoadedPlugin, load_plugin
from pipehouse.runtime.action_result import ActionResult, action_result
from pipehouse.runtime.containment import cancelled_for_real, plugin_failure
from pipehouse.runtime.environment_path import make_importable
from pipehouse.runtime.executor import CallContext, InletsThenPipe, PipeResult, PluginSource
from pipehouse.runtime.injection import injected_arguments
from pipehouse.runtime.items import Item, normalize, streaming_response_items, utf8_decoder
from pipehouse.runtime.threads import ThreadRunner
from pipehouse.runtime.watchdog import Deadlines, IdleWatchdog, StepWatchdog

log = logging.getLogger(__name__)


class InProcessExecutor:
    """Runs plugins in this process; sync plugin code runs on a bounded thread pool."""

    def __init__(
        self,
        *,
        max_threads: int = 64,
        call_timeout: float | None = None,
        idle_timeout: float | None = None,
        cache_dir: Path | None = None,
        observer: Callable[[str, str, float, bool], None] | None = None,
    ) -> None:
        self.observer = observer  # (plugin_id, stage, seconds, ok): metrics, once per call
        self.call_timeout = call_timeout
        self.idle_timeout = idle_timeout
        self._cache_dir = cache_dir
        self._threads = ThreadRunner(max_threads)
        self._deadlines = Deadlines()
        self._plugins: dict[str, LoadedPlugin] = {}
        self._infos: dict[str, PluginInfo] = {}
        # each loaded plugin's source file -> its id: what names a plugin in a stack (loop_lag)
        self.plugin_files: dict[str, str] = {}
        self._pipeline_valves: dict[str, Any] = {}  # the stored values last applied
        self._pipeline_initial: dict[str, dict[str, Any]] = {}  # what `__init__` set
        # per plugin: (stored values, the Valves built from them, a copy of its fields)
        self._valves_built: dict[str, tuple[dict[str, Any], Any, dict[str, Any]]] = {}
        self._loaded_secrets: dict[str, set[str]] = {}  # what each instance held after __init__

    # -- loading -------------------------------------------------------------------------------
    async def load(self, source: PluginSource) -> PluginInfo:
        """Execute the source (on a thread: module code may block) and keep the instance.

        Loading the same id with the same content again returns the live instance: plugin
        instances are cached by content hash, and `__init__` runs only when the code changed.
        """
        digest = hashlib.sha256(source.source.encode()).hexdigest()
        current = self._plugins.get(source.id)
        if current is not None and current.content_hash == digest and source.id in self._infos:
            return self._infos[source.id]
        make_importable(source.environment)
        plugin = await self._threads.run(
            load_plugin,
            source.source,
            source.id,
            path=source.path,
            kind=source.kind,
            cache_dir=self._cache_dir,
        )
        try:
            info = describe(plugin)
        except BaseException as exc:  # no await inside: nothing here is a cancellation
            raise PluginError.from_exception(
                exc,
                plugin_id=source.id,
                path=plugin.path,
                stage="load",
                hint="the plugin loaded, but its valves or tool methods could not be described",
            ) from exc
        previous = self._plugins.get(source.id)
        self._plugins[source.id] = plugin
        self._infos[source.id] = info
        if previous is not None and self.plugin_files.get(previous.path) == source.id:
            del self.plugin_files[previous.path]
        self.plugin_files[plugin.path] = source.id
        self._loaded_secrets[source.id] = self._held_secrets(plugin)
        self._pipeline_valves.pop(source.id, None)
        self._pipeline_initial.pop(source.id, None)
        self._valves_built.pop(source.id, None)
        if previous is not None:
            await self._shutdown(previous)
        if plugin.kind is PluginKind.PIPELINE:
            await self._apply_pipeline_valves(plugin, None)
            await self._lifecycle(plugin, "on_startup")
        return info

    async def unload(self, plugin_id: str) -> None:
        plugin = self._plugins.pop(plugin_id, None)
        if plugin is not None and self.plugin_files.get(plugin.path) == plugin_id:
            del self.plugin_files[plugin.path]
        self._infos.pop(plugin_id, None)
        self._loaded_secrets.pop(plugin_id, None)
        self._pipeline_valves.pop(plugin_id, None)
        self._pipeline_initial.pop(plugin_id, None)
        self._valves_built.pop(plugin_id, None)
        if plugin is not None:
            await self._shutdown(plugin)

    async def _shutdown(self, plugin: LoadedPlugin) -> None:
        if plugin.kind is PluginKind.PIPELINE:
            await self._lifecycle(plugin, "on_shutdown")

    async def close(self) -> None:
        for plugin_id in list(self._plugins):
            await self.unload(plugin_id)
        self._threads.shutdown()

    def loaded(self, plugin_id: str) -> LoadedPlugin:
        """The live plugin, for in-process tools (CLI inspect); never used above the boundary."""
        try:
            return self._plugins[plugin_id]
        except KeyError:
            raise KeyError(f"plugin '{plugin_id}' is not loaded") from None

    # -- valves -------------------------------------------------------------------------------
    def _valves_class(self, plugin_id: str, user: bool) -> type:
        plugin = self.loaded(plugin_id)
        cls = plugin.user_valves_class if user else plugin.valves_class
        if cls is None:
            raise valves_rules.ValvesError(
                plugin_id=plugin_id,
                message=f"the plugin has no {'UserValves' if user else 'Valves'} class",
                path=plugin.path,
                error_type="NoValves",
                stage="valves",
            )
        return cls

    async def validate_valves(
        self, plugin_id: str, values: Mapping[str, Any], *, user: bool = False
    ) -> dict[str, Any]:
        """What saving these values stores (only the fields set), or `ValvesError`."""
        return valves_rules.validate_update(plugin_id, self._valves_class(plugin_id, user), values)

    async def parse_valves(
        self, plugin_id: str, assignments: list[str], *, user: bool = False
    ) -> dict[str, Any]:
        """`KEY=VALUE` strings typed by the plugin's class, then validated as a save."""
        cls = self._valves_class(plugin_id, user)
        values = valves_rules.parse_assignments(cls, assignments, plugin_id)
        return valves_rules.validate_update(plugin_id, cls, values)

    async def valves_schema(
        self, plugin_id: str, *, user: bool = False, for_user: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """JSON Schema with dynamic `input.options` resolved for `for_user`."""
        plugin = self.loaded(plugin_id)
        cls = plugin.user_valves_class if user else plugin.valves_class
        return valves_rules.schema(cls, for_user)

    async def secret_values(self, plugin_id: str) -> set[str]:
        """Every secret value the live instance holds (valves now and after `__init__`, class
        defaults, secret-named attributes), as strings: for hiding them in errors and logs.
        Read only when an error is about to leave, never per call."""
        plugin = self._plugins.get(plugin_id)
        if plugin is None:
            return set()
        return self._loaded_secrets.get(plugin_id, set()) | self._held_secrets(plugin)

    @staticmethod
    def _held_secrets(plugin: LoadedPlugin) -> set[str]:
        try:
            return valves_rules.held_secrets(
                plugin.instance, plugin.valves_class, plugin.user_valves_class
            )
        except Exception:  # a plugin object that cannot be read: nothing known, nothing to hide
            log.warning("could not read the secret values of %s", plugin.id)
            return set()

    # -- calling -------------------------------------------------------------------------------
    async def _invoke(
        self, plugin: LoadedPlugin, stage: str, handler: Handler, /, *args: Any, **kw: Any
    ) -> Any:
        """Call plugin code (awaiting coroutines, threading sync code) with a timeout, errors
        that name the plugin, and one report to the observer."""
        started = time.perf_counter()
        token = self._deadlines.start(self.call_timeout, started) if self.call_timeout else None
        ok = False
        try:
            if handler.is_coroutine:
                result = await handler.fn(*args, **kw)
            elif handler.is_async_generator:
                result = handler.fn(*args, **kw)
            else:
                result = await self._threads.run(handler.fn, *args, **kw)
                if inspect.isawaitable(result):  # a sync wrapper that returned a coroutine
                    result = await result
            ok = True
            return result
        except asyncio.CancelledError as exc:
            if token is not None and self._deadlines.finish(token):
                token = None
                raise PluginError(
                    plugin_id=plugin.id,
                    message=f"{stage} did not finish within {self.call_timeout} s",
                    path=plugin.path,
                    error_type="Timeout",
                    stage=stage,
                    hint="the plugin is slow or stuck; raise the call timeout if this is expected",
                ) from None
            if cancelled_for_real():
                raise
            raise plugin_failure(exc, plugin_id=plugin.id, path=plugin.path, stage=stage) from exc
        except PluginError:
            raise
        except BaseException as exc:  # SystemExit too: plugin code never stops the server
            raise plugin_failure(exc, plugin_id=plugin.id, path=plugin.path, stage=stage) from exc
        finally:
            if token is not None:
                self._deadlines.finish(token)
            if self.observer is not None:
                self.observer(plugin.id, stage, time.perf_counter() - started, ok)

    async def _lifecycle(self, plugin: LoadedPlugin, hook: str) -> None:
        handler = plugin.handler(hook)
        if handler is not None:
            await self._invoke(plugin, hook, handler)

    def _apply_valves(self, plugin: LoadedPlugin, stored: Mapping[str, Any] | None) -> None:
        """A `Valves` as fresh as Open WebUI's, which builds one for every call: a plugin that
        changes `self.valves` during a call changes only that call's object.

        Validating the stored values costs more than many a plugin call, so the object built
        last time is handed out again while the stored values are the same and the object
        still holds exactly what it was built with (a copy of its fields says so); any change
        to either builds a new one."""
        cls = plugin.valves_class
        if cls is None or plugin.kind is PluginKind.PIPELINE:
            return
        instance = plugin.instance
        last = self._valves_built.get(plugin.id)
        if (
            last is not None
            and instance.valves is last[1]
            and last[0] == (stored or {})
            and last[1].__dict__ == last[2]
        ):
            return
        built = valves_rules.build_valves(plugin.id, plugin.kind, cls, stored)
        instance.valves = built
        try:
            self._valves_built[plugin.id] = (
                dict(stored or {}),
                built,
                copy.deepcopy(built.__dict__),
            )
        except Exception:  # a field that cannot be copied: build afresh every time
            self._valves_built.pop(plugin.id, None)

    async def _apply_pipeline_valves(
        self, plugin: LoadedPlugin, stored: Mapping[str, Any] | None
    ) -> None:
        """Pipelines keep one valves object: the values their `__init__` set, with the stored
        values over them, then notified. (Over the *current* values, a field taken out of the
        stored ones would keep its last value.)"""
        key = dict(stored or {})
        if plugin.id in self._pipeline_valves and self._pipeline_valves[plugin.id] == key:
            return
        first = plugin.id not in self._pipeline_valves
        cls = plugin.valves_class
        if cls is not None:
            if first:
                current = plugin.instance.valves
                initial = current.model_dump() if isinstance(current, BaseModel) else {}
                self._pipeline_initial[plugin.id] = initial
            base = self._pipeline_initial.get(plugin.id, {})
            plugin.instance.valves = valves_rules.build_valves(
                plugin.id, plugin.kind, cls, base | key
            )
        self._pipeline_valves[plugin.id] = key
        if not first or key:
            # The Pipelines server skips this after the initial load (pipelines#271); not here.
            await self._lifecycle(plugin, "on_valves_updated")

    async def models(self, plugin_id: str, call: CallContext) -> list[dict[str, Any]]:
        """A manifold's sub-models as `{id, name}` with the id and name Open WebUI gives them."""
        plugin = self.loaded(plugin_id)
        attribute = "pipelines" if plugin.kind is PluginKind.PIPELINE else "pipes"
        if plugin.kind is PluginKind.PIPELINE:
            await self._apply_pipeline_valves(plugin, call.valves)
        else:
            self._apply_valves(plugin, call.valves)
        source = getattr(plugin.instance, attribute, None)
        if source is None:
            return []
        entries = (
            await self._invoke(plugin, attribute, Handler.of(source))
            if callable(source)
            else source
        )
        prefix = getattr(plugin.instance, "name", None)
        models = []
        for entry in entries or []:
            try:
                sub_id, name = entry["id"], entry["name"]
            except (KeyError, TypeError):
                log.warning(
                    "plugin %s: manifold entry %r lacks an id or a name; skipped", plugin_id, entry
                )
                continue
            models.append(
                {"id": f"{plugin_id}.{sub_id}", "name": f"{prefix}{name}" if prefix else name}
            )
        return models

    async def call_pipe(
        self, plugin_id: str, body: dict[str, Any], call: CallContext
    ) -> PipeResult:
        plugin = self.loaded(plugin_id)
        handler = plugin.handler("pipe")
        if handler is None:
            raise PluginError(
                plugin_id=plugin_id,
                message="the plugin has no pipe() method",
                path=plugin.path,
                error_type="NoPipeMethod",
                stage="pipe",
            )
        if plugin.kind is PluginKind.PIPELINE:
            await self._apply_pipeline_valves(plugin, call.valves)
            model = body.get("model") or plugin_id
            kwargs = {
                "user_message": last_user_message(body.get("messages", [])) or "",
                "model_id": model.split(".", 1)[1] if "." in model else model,
                "messages": body.get("messages", []),
                "body": body,
            }
        else:
            self._apply_valves(plugin, call.valves)
            kwargs = {"body": body, **injected_arguments(plugin, handler, call)}
        result = await self._invoke(plugin, "pipe", handler, **kwargs)
        return self._as_result(plugin, result)

    def _as_result(self, plugin: LoadedPlugin, result: Any) -> PipeResult:
        if type(result) in _PLAIN_RESULTS:  # the usual answers, past the costlier checks below
            return PipeResult(value=result)
        if isinstance(result, str):  # a str subclass (pyfiglet's FigletString): text
            return PipeResult(value=str.__str__(result))
        if isinstance(result, StreamingResponse):
            items = streaming_response_items(result.body_iterator)
            return PipeResult(stream=self._guard_stream(plugin, items))
        if inspect.isasyncgen(result) or isinstance(result, AsyncIterator):
            return PipeResult(stream=self._guard_stream(plugin, result))
        if isinstance(result, Iterator) and not isinstance(result, str | bytes | dict):
            return PipeResult(stream=self._guard_stream(plugin, self._threads.iterate(result)))
        if isinstance(result, BaseModel):
            return PipeResult(value=result.model_dump(mode="json"))
        if isinstance(result, bytes | bytearray):
            return PipeResult(value=result.decode("utf-8", errors="replace"))
        return PipeResult(value=result)

    async def _guard_stream(
        self, plugin: LoadedPlugin, source: AsyncIterator[Any]
    ) -> AsyncIterator[Item]:
        """The pipe's items as plain data (see `items`), with an idle timeout, and errors
        raised while it streams turned into `PluginError`s naming it. Hot: one pass per chunk."""
        iterator = aiter(source)
        started = time.perf_counter()
        watchdog = IdleWatchdog(self.idle_timeout) if self.idle_timeout else None
        decoder = None  # for yielded bytes: one per stream, so split characters survive
        ok = False
        try:
            while True:
                if watchdog is not None:
                    watchdog.waiting()
                try:
                    raw = await anext(iterator)
                except StopAsyncIteration:
                    ok = True
                    if decoder is not None and (tail := decoder.decode(b"", final=True)):
                        yield tail
                    return
                except asyncio.CancelledError as exc:
                    if watchdog is not None and watchdog.expired():
                        raise TimeoutError from None
                    if cancelled_for_real():
                        raise
                    raise plugin_failure(
                        exc, plugin_id=plugin.id, path=plugin.path, stage="pipe"
                    ) from exc
                except Exception:
                    raise  # turned into a PluginError below
                except BaseException as exc:  # not at our `yield`: the plugin's own SystemExit
                    raise plugin_failure(
                        exc, plugin_id=plugin.id, path=plugin.path, stage="pipe"
                    ) from exc
                if watchdog is not None:
                    watchdog.done()
                if type(raw) is str and raw and not raw.startswith("data:"):
                    yield raw  # plain text, by far the most common item
                    continue
                if isinstance(raw, bytes | bytearray):
                    decoder = decoder or utf8_decoder()
                    raw = decoder.decode(raw)
                item = normalize(raw)
                if item is None:
                    continue
                if isinstance(item, list):
                    for each in item:
                        yield each
                else:
                    yield item
        except TimeoutError as exc:
            raise PluginError(
                plugin_id=plugin.id,
                path=plugin.path,
                error_type="Timeout",
                stage="pipe",
                message=f"no output for {self.idle_timeout} s",
                hint="the pipe stopped producing output",
            ) from exc
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError.from_exception(
                exc, plugin_id=plugin.id, path=plugin.path, stage="pipe"
            ) from exc
        finally:
            if watchdog is not None:
                watchdog.close()
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()
            if self.observer is not None:
                self.observer(plugin.id, "pipe.stream", time.perf_counter() - started, ok)

    async def call_filter(
        self, plugin_id: str, hook: str, body: dict[str, Any], call: CallContext
    ) -> Any:
        """Run one filter hook; returns what it returned (the caller decides what None means)."""
        plugin = self.loaded(plugin_id)
        handler = plugin.handler(hook)
        if handler is None:
            return body
        if plugin.kind is PluginKind.PIPELINE:
            await self._apply_pipeline_valves(plugin, call.valves)
            user = {k: call.user.get(k) for k in ("id", "email", "name", "role")}
            return await self._invoke(plugin, hook, handler, body, user)
        self._apply_valves(plugin, call.valves)
        main = {"event": body} if hook == "stream" else {"body": body}
        kwargs = main | injected_arguments(plugin, handler, call)
        return await self._invoke(plugin, hook, handler, **kwargs)

    def fusable(self, plugin_ids: list[str]) -> bool:
        return False  # a call here costs no round trip: nothing to save

    async def call_inlets_then_pipe(
        self,
        inlets: list[tuple[str, CallContext]],
        body: dict[str, Any],
        pipe: tuple[str, CallContext],
        *,
        handles_files: bool,
    ) -> InletsThenPipe | None:
        return None

    async def filter_stream(
        self, plugin_ids: list[str], items: AsyncIterator[dict[str, Any]], calls: list[CallContext]
    ) -> AsyncIterator[dict[str, Any]]:
        """Pass every chunk through each filter's `stream` hook; a falsy result drops the chunk.

        Valves and arguments are prepared once per response, not per chunk, and the observer
        hears of each filter once per response (not per chunk: that would cost more than the
        hooks themselves). Each hook call has the call timeout, kept by one `StepWatchdog` per
        response rather than a deadline per chunk.
        """
        stages = []
        for plugin_id, call in zip(plugin_ids, calls, strict=True):
            plugin = self.loaded(plugin_id)
            handler = plugin.handler("stream")
            if handler is None:
                continue
            self._apply_valves(plugin, call.valves)
            kwargs = injected_arguments(plugin, handler, call)
            stages.append((plugin, handler.fn, handler.is_coroutine, kwargs))
        started = time.perf_counter()
        failed: str | None = None
        limit = self.call_timeout
        watchdog = StepWatchdog(limit) if limit and stages else None
        try:
            async for chunk in items:
                for plugin, fn, is_coroutine, kwargs in stages:
                    if watchdog is not None:
                        watchdog.started += 1
                    try:
                        if is_coroutine:
                            chunk = await fn(event=chunk, **kwargs)
                        else:  # sync code never runs on the loop, even once per chunk
                            chunk = await self._threads.run(fn, event=chunk, **kwargs)
                    except asyncio.CancelledError as exc:
                        if watchdog is not None and watchdog.expired():
                            failed = plugin.id
                            raise PluginError(
                                plugin_id=plugin.id,
                                message=f"stream did not finish within {limit} s",
                                path=plugin.path,
                                error_type="Timeout",
                                stage="stream",
                                hint="the stream filter is slow or stuck; it holds up the answer",
                            ) from None
                        if cancelled_for_real():
                            raise
                        failed = plugin.id
                        raise plugin_failure(
                            exc, plugin_id=plugin.id, path=plugin.path, stage="stream"
                        ) from exc
                    except BaseException as exc:  # SystemExit too: it never stops the server
                        failed = plugin.id
                        raise plugin_failure(
                            exc, plugin_id=plugin.id, path=plugin.path, stage="stream"
                        ) from exc
                    if watchdog is not None:
                        watchdog.ended = watchdog.started
                    if not chunk:
                        break
                else:
                    yield chunk
        finally:
            if watchdog is not None:
                watchdog.close()
            if self.observer is not None:
                seconds = time.perf_counter() - started
                for plugin, *_ in stages:
                    self.observer(plugin.id, "stream", seconds, plugin.id != failed)

    async def call_tool(
        self, plugin_id: str, name: str, arguments: dict[str, Any], call: CallContext
    ) -> Any:
        """Run one function of a toolkit and return what it returned, unchanged.

        The model's arguments are cut down to the parameters the function's spec declares and
        lightly coerced as Open WebUI does (str -> int for `int`/`Optional[int]`, number -> str
        for `str`/`Optional[str]`); tools are also offered `__messages__` (from `call.extra`)
        and `__features__` (the request's `features`) besides the usual injected names.
        """
        plugin = self.loaded(plugin_id)
        spec = next((s for s in self._infos[plugin_id].tool_specs if s["name"] == name), None)
        handler = plugin.handler(name) if spec is not None else None
        if plugin.kind is not PluginKind.TOOLS or handler is None:
            what = "toolkit" if plugin.kind is PluginKind.TOOLS else f"{plugin.kind} plugin"
            raise PluginError(
                plugin_id=plugin_id,
                message=f"the {what} has no tool '{name}'",
                path=plugin.path,
                error_type="UnknownTool",
                stage="tool",
                hint="tools are the public methods of a Tools class",
            )
        assert spec is not None  # no spec, no handler: refused above
        declared = (spec.get("parameters") or {}).get("properties") or {}
        try:
            hints = inspect.get_annotations(handler.fn, eval_str=True)
        except Exception:  # an annotation that does not resolve: no coercion, as Open WebUI
            hints = {}
        given: dict[str, Any] = {}
        for key, value in arguments.items():
            if key not in declared or key.startswith("__"):
                continue
            hint = hints.get(key)
            union = set(getattr(hint, "__args__", ()))
            try:
                if isinstance(value, str) and (hint is int or union == {int, type(None)}):
                    value = int(value)
                elif (
                    isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and (hint is str or union == {str, type(None)})
                ):
                    value = str(value)
            except ValueError as exc:
                raise PluginError(
                    plugin_id=plugin_id,
                    message=str(exc),
                    path=plugin.path,
                    error_type="BadArgument",
                    stage="tool",
                    hint=f"argument '{key}' of {name}() must be an integer",
                ) from exc
            given[key] = value
        self._apply_valves(plugin, call.valves)
        injected = injected_arguments(plugin, handler, call)
        if "__messages__" in handler.accepts:
            injected.setdefault("__messages__", [])
        if "__features__" in handler.accepts:
            injected.setdefault("__features__", call.metadata.get("features") or {})
        return await self._invoke(plugin, "tool", handler, **(given | injected))

    async def call_action(
        self,
        plugin_id: str,
        body: dict[str, Any],
        call: CallContext,
        *,
        sub_action_id: str | None = None,
    ) -> ActionResult:
        """Run an action's `action(body, ...)` and turn what it returned into plain data.

        `__id__` is the sub-action's own id when one was clicked (Open WebUI's rule, reference
        5), otherwise the plugin id."""
        plugin = self.loaded(plugin_id)
        handler = plugin.handler("action")
        if plugin.kind is not PluginKind.ACTION or handler is None:
            raise PluginError(
                plugin_id=plugin_id,
                message=f"the {plugin.kind} plugin has no action() method",
                path=plugin.path,
                error_type="NoActionMethod",
                stage="action",
            )
        self._apply_valves(plugin, call.valves)
        injected = injected_arguments(plugin, handler, call)
        if sub_action_id is not None and "__id__" in injected:
            injected["__id__"] = sub_action_id
        value = await self._invoke(plugin, "action", handler, body=body, **injected)
        return action_result(plugin_id, value)


def last_user_message(messages: list[dict[str, Any]]) -> str | None:
    """Text of the last user message, a pipeline's `user_message`; for list content, its first
    text part."""
    for message in reversed(messages or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text":
                    return part.get("text", "")
            return ""
        return content if isinstance(content, str) else ""
    return None


_PLAIN_RESULTS = frozenset({str, dict, type(None)})  # what a pipe returns most often
