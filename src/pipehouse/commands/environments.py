"""`pipehouse env`: plugin environments in the data dir (pipehouse.envs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from pipehouse.commands.shared import DATA_DIR, err, settings_from

if TYPE_CHECKING:  # imported where used: `pipehouse --help` stays quick
    from pipehouse.envs import Environments

env_app = typer.Typer(
    help="Plugin environments (the packages plugins need beyond pipehouse's): list, show, "
    "rebuild, prune.",
    no_args_is_help=True,
)
env_out = Console(highlight=False)


def _environments(data_dir: Path | None) -> Environments:
    from pipehouse.envs import Environments

    settings = settings_from(data_dir, None)
    return Environments(settings.data_dir / "envs", offline=settings.offline)


@env_app.command("list")
def env_list(data_dir: Path | None = DATA_DIR) -> None:
    """Every environment in the data dir, with its state, size, requirements and plugins."""
    from pipehouse.console.environments import show_state

    states = _environments(data_dir).list()
    if not states:
        err.print("[dim]no environments yet: plugins with requirements get one when loaded[/]")
    for state in states:
        show_state(state, env_out)


@env_app.command("show")
def env_show(
    key: str = typer.Argument(..., help="The environment's key (see `pipehouse env list`)."),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """One environment as JSON: state, step, the installer's last lines, error, size."""
    import orjson

    state = _environments(data_dir).state(key)
    if state is None:
        err.print(f"[red]error:[/] no environment {key}")
        raise typer.Exit(1)
    print(orjson.dumps(state.to_dict(), option=orjson.OPT_INDENT_2).decode())


@env_app.command("rebuild")
def env_rebuild(
    key: str = typer.Argument(..., help="The environment's key (see `pipehouse env list`)."),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Build an environment again from scratch (a failed install retried), showing progress. A
    running server picks it up on its next load of the plugin."""
    import asyncio

    from pipehouse.console.environments import follow, show_state

    async def rebuild() -> int:
        environments = _environments(data_dir)
        try:
            environments.rebuild(key)
        except KeyError:
            err.print(f"[red]error:[/] no environment {key}")
            return 1
        state = await follow(environments, key, err)
        if state is not None:
            show_state(state, env_out)
        return 0 if state is not None and state.state == "ready" else 1

    raise typer.Exit(asyncio.run(rebuild()))


@env_app.command("prune")
def env_prune(
    all_: bool = typer.Option(
        False, "--all", help="Remove every environment not being built (they are rebuilt on use)."
    ),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Remove failed environments and those built for another Python or other pipehouse
    packages (never used again); with --all, every one."""
    removed = _environments(data_dir).prune(keep=set() if all_ else None)
    for key in removed:
        env_out.print(key)
    err.print(f"[dim]{len(removed)} removed[/]")
