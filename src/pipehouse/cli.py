"""The `pipehouse` command line: the Typer app, assembled from the command groups in
`pipehouse.commands`."""

from __future__ import annotations

import logging
import sys

import typer
from rich.markup import escape

from pipehouse import __version__
from pipehouse.commands.accounts import keys_app, users_app
from pipehouse.commands.connections import connections_app
from pipehouse.commands.environments import env_app
from pipehouse.commands.plugin_file import inspect, new, run
from pipehouse.commands.serve import serve
from pipehouse.commands.shared import err
from pipehouse.config import SettingsError

app = typer.Typer(
    name="pipehouse",
    help="Run Open WebUI plugins (Pipes, Filters, Actions, Tools, Pipelines) outside Open WebUI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


for command in (run, inspect, new, serve):
    app.command()(command)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(connections_app, name="connections")
app.add_typer(env_app, name="env")


def main() -> None:
    try:
        app()
    except SettingsError as exc:  # read outside a command's own checks (run, inspect)
        err.print(f"[red]error:[/] {escape(str(exc))}")
        sys.exit(2)
