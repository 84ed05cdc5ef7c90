"""The command line's side of plugin environments: `run` and `inspect` load a file in the same
environment the server would build for it (shown as it installs), and `pipehouse env ...`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from pipehouse.config import Settings
from pipehouse.envs import Environments, EnvState
from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind
from pipehouse.runtime.executor import Executor, PluginSource
from pipehouse.service.plugin_envs import EnvironmentPending, PluginEnvironments


def plugin_environments(data_dir: Path | None, *, install: bool) -> PluginEnvironments:
    """The server's environments (`<data dir>/envs`, the settings' unless given), or none with
    `--no-install`."""
    if not install:
        return PluginEnvironments(None)
    settings = Settings()
    root = (data_dir or settings.data_dir) / "envs"
    return PluginEnvironments(Environments(root, offline=settings.offline))


async def follow(environments: Environments, key: str, console: Console) -> EnvState | None:
    """Show a build as it goes, the step on a spinner and each installer line, until it ends."""
    shown = 0
    waiting = asyncio.ensure_future(environments.wait(key))
    with console.status("[bold]preparing the plugin's environment[/]") as status:
        while True:
            state = environments.state(key)
            if state is not None:
                status.update(f"[bold]environment {key}[/] {escape(state.step)}")
                for line in state.progress[shown:]:
                    console.print(f"[dim]  {escape(line)}[/]")
                shown = len(state.progress)
            if waiting.done():
                return waiting.result()
            await asyncio.wait({waiting}, timeout=0.1)


async def load_file(
    executor: Executor,
    environments: PluginEnvironments,
    path: Path,
    console: Console,
    *,
    plugin_id: str,
    kind: PluginKind | None = None,
) -> PluginInfo:
    """Load a plugin file in its environment, building that first when needed."""
    content = path.read_text(encoding="utf-8")
    while True:
        try:
            return await environments.load(
                plugin_id,
                content,
                lambda env: executor.load(PluginSource(plugin_id, content, str(path), kind, env)),
            )
        except EnvironmentPending as pending:
            assert environments.environments is not None
            await follow(environments.environments, pending.state.key, console)


def show_state(state: EnvState, console: Console) -> None:
    colour = {"ready": "green", "failed": "red"}.get(state.state, "yellow")
    size = f"  {state.size / 1e6:.1f} MB" if state.size else ""
    console.print(
        f"[bold]{state.key}[/]  [{colour}]{state.state}[/]{size}  "
        f"{escape(', '.join(state.requirements))}"
        + (f"  [dim]plugins: {escape(', '.join(state.plugins))}[/]" if state.plugins else "")
    )
    if state.error:
        console.print(f"  [red]{escape(state.error)}[/]")
