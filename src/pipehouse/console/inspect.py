"""`pipehouse inspect PLUGIN`: what a plugin file is and offers, without running a chat."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipehouse.console.environments import load_file, plugin_environments
from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind
from pipehouse.plugin.loader import plugin_id_from_path
from pipehouse.plugin.requirements import missing_requirements
from pipehouse.runtime.executor import CallContext
from pipehouse.runtime.inprocess import InProcessExecutor


async def gather(
    path: Path, *, install: bool = True, data_dir: Path | None = None
) -> tuple[PluginInfo, list[dict[str, Any]], str | None]:
    """The plugin's description, its manifold models, and why listing them failed (if it did);
    loaded in the environment the server would give it (built first when needed)."""
    executor = InProcessExecutor()
    environments = plugin_environments(data_dir, install=install)
    try:
        info = await load_file(
            executor,
            environments,
            path,
            Console(stderr=True, highlight=False),
            plugin_id=plugin_id_from_path(path),
        )
        models: list[dict[str, Any]] = []
        problem = None
        if info.is_manifold:
            try:
                models = await executor.models(info.id, CallContext())
            except PluginError as exc:
                problem = str(exc)
        return info, models, problem
    finally:
        await executor.close()
        await environments.close()


def _schema_table(title: str, schema: dict[str, Any] | None, secret: list[str]) -> Table | None:
    if not schema:
        return None
    table = Table(title=title, title_justify="left", show_edge=False)
    for column in ("field", "type", "default", "description"):
        table.add_column(column)
    required = set(schema.get("required", []))
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type") or " | ".join(
            str(option.get("type")) for option in prop.get("anyOf", []) if isinstance(option, dict)
        )
        default = "(required)" if name in required else repr(prop.get("default"))
        label = f"{name} [red](secret)[/]" if name in secret else name
        table.add_row(
            label, escape(str(kind)), escape(default), escape(prop.get("description", ""))
        )
    return table


def _show_requirements(declared: list[str], missing: list[str], console: Console) -> None:
    if declared:
        marks = [
            f"{escape(r)} [red](missing)[/]" if r in missing else f"{escape(r)} [green]✓[/]"
            for r in declared
        ]
        console.print("requirements: " + ", ".join(marks))


def show(
    info: PluginInfo, models: list[dict[str, Any]], problem: str | None, console: Console
) -> None:
    console.print(f"[bold]{escape(info.name)}[/]  [dim]{escape(info.path)}[/]")
    kind = info.kind.value + (f" ({info.pipeline_type})" if info.pipeline_type else "")
    console.print(f"kind: [bold]{kind}[/]   id: {info.id}")
    if info.description:
        console.print(escape(info.description))
    if info.frontmatter:
        table = Table(title="frontmatter", title_justify="left", show_header=False, show_edge=False)
        for key, value in info.frontmatter.items():
            table.add_row(key, escape(value))
        console.print(table)
    _show_requirements(info.requirements, info.missing_requirements, console)
    for schema_table in (
        _schema_table("valves", info.valves_schema, info.secret_valves),
        _schema_table("user valves", info.user_valves_schema, info.secret_user_valves),
    ):
        if schema_table is not None:
            console.print(schema_table)
    if info.kind is PluginKind.FILTER or info.pipeline_type == "filter":
        flags = [f"priority {info.default_priority}"]
        if info.toggle:
            flags.append("toggle (runs only when enabled per request)")
        if info.file_handler:
            flags.append("file_handler")
        console.print(
            f"filter hooks: {', '.join(info.hooks) or 'none'}  [dim]{'; '.join(flags)}[/]"
        )
    if info.is_manifold:
        if problem:
            console.print(f"[red]models could not be listed:[/] {escape(problem)}")
        for model in models:
            console.print(f"model: [bold]{escape(model['id'])}[/]  {escape(str(model['name']))}")
    if info.actions:
        for action in info.actions:
            console.print(
                f"action: {escape(str(action.get('id')))}  {escape(str(action.get('name', '')))}"
            )
    if info.kind is PluginKind.TOOLS:
        for spec in info.tool_specs:
            console.print(f"tool: [bold]{escape(spec['name'])}[/]")
            console.print_json(orjson.dumps(spec).decode())


def inspect_file(path: Path, *, as_json: bool, console: Console, install: bool = True) -> int:
    try:
        info, models, problem = asyncio.run(gather(path, install=install))
    except PluginError as error:
        from pipehouse.console.render import Renderer
        from pipehouse.console.run import declared_requirements

        if not as_json:  # what can be known without running it: often why it failed
            declared = declared_requirements(path)
            missing = {r.text for r in missing_requirements(declared)}
            _show_requirements([r.text for r in declared], list(missing), console)
        err = Console(stderr=True, highlight=False)
        Renderer(json_lines=as_json, out=console.file, err=err).error(error)
        return 1
    if as_json:
        described = {**info.to_dict(), "models": models, "models_error": problem}
        console.file.write(orjson.dumps(described, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        show(info, models, problem, console)
    return 0
