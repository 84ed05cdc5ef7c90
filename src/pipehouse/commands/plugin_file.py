"""Commands on one plugin file, no server or database: run it, inspect it, or write a new one."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from pipehouse.commands.shared import err


def run(
    plugin: Path = typer.Argument(
        ...,
        help="The plugin file: a pipe, a manifold, a filter, an action or a Pipelines file.",
        exists=False,
    ),
    prompt: str | None = typer.Argument(
        None, help="The user message; for an action, the answer it acts on (default: stdin)."
    ),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Sub-model of a manifold; for an action, its body's model."
    ),
    sub_action: str | None = typer.Option(
        None, "--sub-action", help="Which of an action's `actions` to run (its id)."
    ),
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
    no_install: bool = typer.Option(
        False,
        "--no-install",
        help="Never build an environment for the file's requirements: the installed packages only.",
    ),
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds a plugin call may take."),
    verbose: bool = typer.Option(False, "--traceback", help="Show full tracebacks on errors."),
) -> None:
    """Run one chat turn through PLUGIN and show the answer as it streams; run an action once
    on an answer and print what it returns.

    Example: pipehouse run examples/hello_pipe.py "hi"
    """
    from pipehouse.console.output import plugin_output_to_stderr
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
        no_install=no_install,
        timeout=timeout,
        verbose=verbose,
        sub_action=sub_action,
    )
    try:
        with plugin_output_to_stderr() as stdout:
            code = run_sync(options, Renderer(json_lines=json_lines, out=stdout, err=err))
    except UsageError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    raise typer.Exit(code)


def inspect(
    plugin: Path = typer.Argument(..., help="The plugin file."),
    json_output: bool = typer.Option(False, "--json", help="Print the description as JSON."),
    no_install: bool = typer.Option(
        False,
        "--no-install",
        help="Never build an environment for the file's requirements: the installed packages only.",
    ),
) -> None:
    """Show a plugin's kind, frontmatter, requirements, valves, models, hooks and tool specs.

    Example: pipehouse inspect examples/word_filter.py
    """
    from pipehouse.console.inspect import inspect_file
    from pipehouse.console.output import plugin_output_to_stderr

    if not plugin.is_file():
        err.print(f"[red]error:[/] no such file: {plugin}")
        raise typer.Exit(2)
    with plugin_output_to_stderr() as stdout:
        code = inspect_file(
            plugin,
            as_json=json_output,
            console=Console(file=stdout, highlight=False),
            install=not no_install,
        )
    raise typer.Exit(code)


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
    elif kind == "action":
        err.print(f'[dim]try it: pipehouse run {path} "an answer to act on" --answer yes[/]')
    else:
        err.print(f"[dim]see what it offers: pipehouse inspect {path}[/]")
