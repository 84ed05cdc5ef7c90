"""The `pipehouse` command line."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console

from pipehouse import __version__

app = typer.Typer(
    name="pipehouse",
    help="Run Open WebUI plugins (Pipes, Filters, Actions, Tools, Pipelines) outside Open WebUI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        print(f"pipehouse {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    log_level: str = typer.Option(
        "WARNING",
        "--log-level",
        envvar="PIPEHOUSE_LOG_LEVEL",
        help="Python log level for pipehouse and plugins.",
    ),
) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")


@app.command()
def run(
    plugin: Path = typer.Argument(
        ..., help="The plugin file: a pipe, a manifold, a filter or a Pipelines file.", exists=False
    ),
    prompt: str | None = typer.Argument(None, help="The user message (default: read stdin)."),
    model: str | None = typer.Option(None, "--model", "-m", help="Sub-model of a manifold."),
    stream: bool = typer.Option(True, "--stream/--no-stream", help="Stream the answer (default)."),
    valve: list[str] = typer.Option([], "--valve", "-v", help="KEY=VALUE, or FILTER_ID:KEY=VALUE."),
    user_valve: list[str] = typer.Option([], "--user-valve", "-u", help="KEY=VALUE user valve."),
    filter_: list[Path] = typer.Option(
        [],
        "--filter",
        "-f",
        help="A filter file to apply (repeatable; ordered by priority, then id).",
    ),
    enable: list[str] = typer.Option([], "--enable", help="Turn on a toggle filter by id."),
    system: str | None = typer.Option(None, "--system", "-s", help="A system message."),
    messages: Path | None = typer.Option(None, "--messages", help="A JSON file of messages."),
    json_lines: bool = typer.Option(False, "--json", help="Print raw chunks and events as JSON."),
    answer: list[str] = typer.Option(
        [],
        "--answer",
        "-a",
        help="Answer an event call (confirmation: yes/no, input: text); repeatable, used in order.",
    ),
    install: bool = typer.Option(False, "--install", help="Install missing requirements first."),
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds a plugin call may take."),
    verbose: bool = typer.Option(False, "--traceback", help="Show full tracebacks on errors."),
) -> None:
    """Run one chat turn through PLUGIN and show the answer as it streams.

    Example: pipehouse run examples/hello_pipe.py "hi"
    """
    from pipehouse.console.render import Renderer
    from pipehouse.console.run import RunOptions, UsageError, run_sync

    options = RunOptions(
        plugin=plugin,
        prompt=prompt,
        model=model,
        stream=stream,
        valves=valve,
        user_valves=user_valve,
        filters=filter_,
        filter_ids=enable,
        system=system,
        messages_file=messages,
        json_lines=json_lines,
        answers=answer,
        install=install,
        timeout=timeout,
        verbose=verbose,
    )
    try:
        code = run_sync(options, Renderer(json_lines=json_lines, err=err))
    except UsageError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    raise typer.Exit(code)


@app.command()
def inspect(
    plugin: Path = typer.Argument(..., help="The plugin file."),
    json_output: bool = typer.Option(False, "--json", help="Print the description as JSON."),
) -> None:
    """Show a plugin's kind, frontmatter, requirements, valves, models, hooks and tool specs.

    Example: pipehouse inspect examples/word_filter.py
    """
    from pipehouse.console.inspect import inspect_file

    if not plugin.is_file():
        err.print(f"[red]error:[/] no such file: {plugin}")
        raise typer.Exit(2)
    raise typer.Exit(inspect_file(plugin, as_json=json_output, console=Console(highlight=False)))


@app.command()
def new(
    kind: str = typer.Argument(..., help="pipe, filter, action or tools."),
    name: str = typer.Argument(..., help="File name (without .py) for the new plugin."),
    directory: Path = typer.Option(Path("."), "--dir", "-d", help="Where to write it."),
) -> None:
    """Write a working, commented starting file for a new plugin.

    Example: pipehouse new filter profanity_guard
    """
    from pipehouse.console.scaffold import new_plugin

    try:
        path = new_plugin(kind, name, directory)
    except (ValueError, FileExistsError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    print(path)
    if kind in ("pipe", "filter"):
        err.print(f'[dim]try it: pipehouse run {path} "hello"[/]')
    else:
        err.print(f"[dim]see what it offers: pipehouse inspect {path}[/]")


def main() -> None:
    app()
