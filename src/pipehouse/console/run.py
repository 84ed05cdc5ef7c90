"""`pipehouse run PLUGIN [PROMPT]`: one chat turn through a plugin file, in the terminal (an
action file runs once instead: `run_action`)."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pipehouse.console.environments import load_file, plugin_environments
from pipehouse.console.host import ConsoleHost
from pipehouse.console.render import Renderer
from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.frontmatter import parse_docstring_frontmatter, parse_frontmatter
from pipehouse.plugin.kinds import PluginKind
from pipehouse.plugin.loader import plugin_id_from_path
from pipehouse.plugin.requirements import PluginRequirement, parse_requirements
from pipehouse.runtime.catalog import Catalog, CommandLineValves
from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.errors import RequestError
from pipehouse.runtime.executor import PluginSource
from pipehouse.runtime.inprocess import InProcessExecutor
from pipehouse.runtime.users import local_user

ECHO_PIPE = '''
class Pipe:
    """Stands in for a model when a filter file is run on its own: echoes the last message."""

    async def pipe(self, body: dict):
        messages = body.get("messages") or [{}]
        content = messages[-1].get("content", "")
        text = content if isinstance(content, str) else str(content)
        for word in text.split(" "):
            yield word + " "
'''


class UsageError(Exception):
    """The command line was given something it cannot run (exit status 2)."""


@dataclass
class RunOptions:
    plugin: Path
    prompt: str | None = None
    model: str | None = None
    stream: bool = True
    valves: list[str] = field(default_factory=list)
    user_valves: list[str] = field(default_factory=list)
    filters: list[Path] = field(default_factory=list)
    filter_ids: list[str] = field(default_factory=list)
    system: str | None = None
    messages_file: Path | None = None
    json_lines: bool = False
    answers: list[str] = field(default_factory=list)
    no_install: bool = False  # never build an environment: the host's packages only
    data_dir: Path | None = None  # where environments live (the server's: PIPEHOUSE_DATA_DIR)
    timeout: float | None = None
    verbose: bool = False
    sub_action: str | None = None


def declared_requirements(path: Path) -> list[PluginRequirement]:
    """What a file's `requirements:` line asks for, read without running the file."""
    source = path.read_text(encoding="utf-8")
    frontmatter = parse_frontmatter(source) or parse_docstring_frontmatter(source)
    return parse_requirements(frontmatter.get("requirements"))


def _messages(options: RunOptions) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if options.messages_file:
        loaded = orjson.loads(options.messages_file.read_bytes())
        loaded = loaded.get("messages") if isinstance(loaded, dict) else loaded
        if not isinstance(loaded, list):
            raise UsageError(f"{options.messages_file}: expected a JSON list of messages")
        messages = loaded
    prompt = options.prompt
    if prompt is None and not messages and not sys.stdin.isatty():
        prompt = sys.stdin.read().strip() or None
    if prompt is not None:
        messages.append({"role": "user", "content": prompt})
    if options.system:
        messages = [{"role": "system", "content": options.system}, *messages]
    if not any(m.get("role") == "user" for m in messages):
        raise UsageError("give a prompt (argument or stdin) or --messages FILE.json")
    return messages


async def _assign(
    store: CommandLineValves,
    executor: InProcessExecutor,
    main_id: str,
    assignments: list[str],
    *,
    user_id: str | None,
) -> None:
    """`KEY=VALUE` for the main plugin, `PLUGIN_ID:KEY=VALUE` for a filter."""
    grouped: dict[str, list[str]] = {}
    for assignment in assignments:
        key = assignment.split("=", 1)[0]
        plugin_id, sep, rest = assignment.partition(":") if ":" in key else ("", "", "")
        grouped.setdefault(plugin_id if sep else main_id, []).append(rest if sep else assignment)
    for plugin_id, items in grouped.items():
        stored = await executor.parse_valves(plugin_id, items, user=user_id is not None)
        if user_id:
            store.by_user[(plugin_id, user_id)] = stored
        else:
            store.by_plugin[plugin_id] = stored


async def _pick_model(
    runtime: ChatRuntime, plugin_id: str, is_manifold: bool, wanted: str | None
) -> str:
    if not is_manifold:
        return plugin_id
    models = [m for m in await runtime.models() if m["id"].startswith(f"{plugin_id}.")]
    ids = [m["id"] for m in models]
    if wanted:
        full = wanted if wanted.startswith(f"{plugin_id}.") else f"{plugin_id}.{wanted}"
        if full in ids:
            return full
        raise UsageError(
            f"no model '{wanted}' in this manifold; it offers: {', '.join(ids) or 'none'}"
        )
    if len(ids) == 1:
        return ids[0]
    listing = ", ".join(i.split(".", 1)[1] for i in ids) or "none"
    raise UsageError(f"this manifold offers several models, choose one with --model: {listing}")


def _frames(buffer: bytearray) -> list[bytes]:
    frames: list[bytes] = []
    while True:
        end = buffer.find(b"\n\n")
        if end < 0:
            return frames
        frames.append(bytes(buffer[:end]))
        del buffer[: end + 2]


async def run(options: RunOptions, renderer: Renderer) -> int:
    """Run one turn; the exit status is 0 on success, 1 on a plugin error."""
    paths = [options.plugin, *options.filters]
    for path in paths:
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
    environments = plugin_environments(options.data_dir, install=not options.no_install)
    executor = InProcessExecutor(call_timeout=options.timeout, idle_timeout=options.timeout)
    catalog, store = Catalog(), CommandLineValves()
    runtime = ChatRuntime(executor, catalog, store)
    user = local_user()
    try:
        main_id = plugin_id_from_path(options.plugin)
        info = await load_file(
            executor, environments, options.plugin, renderer.err, plugin_id=main_id
        )
        if info.kind in (PluginKind.TOOLS, PluginKind.EVENT):
            raise UsageError(
                f"{options.plugin.name} is a {info.kind.value} plugin; `pipehouse run` answers "
                "chats through pipes and filters, and runs actions. Use `pipehouse inspect` to "
                "see what it offers."
            )
        if info.kind is PluginKind.ACTION:
            from pipehouse.console.run_action import click

            catalog.add(info)
            await _assign(store, executor, main_id, options.valves, user_id=None)
            await _assign(store, executor, main_id, options.user_valves, user_id=user["id"])
            return await click(options, renderer, runtime, info, user)
        filter_ids = list(options.filter_ids)
        is_filter = info.kind is PluginKind.FILTER or info.pipeline_type == "filter"
        if is_filter:  # run the filter around a stand-in model
            catalog.add(info)
            filter_ids.append(info.id)
            catalog.add(await executor.load(PluginSource("echo", ECHO_PIPE)))
            target, is_manifold = "echo", False
        else:
            catalog.add(info)
            target, is_manifold = info.id, info.is_manifold
        for path in options.filters:
            extra = await load_file(
                executor, environments, path, renderer.err, plugin_id=plugin_id_from_path(path)
            )
            if extra.kind is not PluginKind.FILTER and extra.pipeline_type != "filter":
                raise UsageError(
                    f"--filter {path}: that file is a {extra.kind.value}, not a filter"
                )
            catalog.add(extra)
            filter_ids.append(extra.id)
        await _assign(store, executor, main_id, options.valves, user_id=None)
        await _assign(store, executor, main_id, options.user_valves, user_id=user["id"])
        model = await _pick_model(runtime, target, is_manifold, options.model)
        body = {
            "model": model,
            "messages": _messages(options),
            "stream": options.stream,
            "filter_ids": filter_ids,
        }
        host = ConsoleHost(renderer, answers=options.answers, show_events=not options.stream)
        turn = await runtime.start(body, user, host=host)
        if not options.stream:
            renderer.completion(await turn.complete())
            return 0
        buffer = bytearray()
        async for data in turn.sse():
            buffer += data
            for raw in _frames(buffer):
                payload = raw.removeprefix(b"data: ")
                if payload == b"[DONE]":
                    continue
                chunk = orjson.loads(payload)
                if "error" in chunk and "choices" not in chunk:
                    continue  # shown below, with the plugin's traceback
                renderer.chunk(chunk)
        renderer.finish()
        if turn.error is not None:
            renderer.error(turn.error, verbose=options.verbose)
            return 1
        return 0
    except PluginError as error:
        renderer.error(error, verbose=options.verbose)
        return 1
    except RequestError as error:
        raise UsageError(str(error)) from error
    finally:
        await executor.close()
        await environments.close()


def run_sync(options: RunOptions, renderer: Renderer) -> int:
    return asyncio.run(run(options, renderer))
