"""The `pipehouse` command line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from pipehouse import __version__
from pipehouse.config import Settings, SettingsError

if TYPE_CHECKING:  # imported where used: `pipehouse --help` stays quick
    from pipehouse.envs import Environments
    from pipehouse.store.accounts import Accounts
    from pipehouse.store.connections import ConnectionStore
    from pipehouse.store.db import Database

T = TypeVar("T")

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


@app.command()
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
    elif kind == "action":
        err.print(f'[dim]try it: pipehouse run {path} "an answer to act on" --answer yes[/]')
    else:
        err.print(f"[dim]see what it offers: pipehouse inspect {path}[/]")


def _settings(data_dir: Path | None, database_url: str | None, **extra: object) -> Settings:
    try:
        settings = Settings(**extra)
    except SettingsError as exc:
        _bad_settings(exc)
    if data_dir is not None:
        settings.data_dir = data_dir
    if database_url is not None:
        settings.database_url = database_url
    return settings


DATA_DIR = typer.Option(
    None,
    "--data-dir",
    envvar="PIPEHOUSE_DATA_DIR",
    help="Where the SQLite database and caches live (default ./.pipehouse).",
)
DATABASE_URL = typer.Option(
    None,
    "--database-url",
    envvar="PIPEHOUSE_DATABASE_URL",
    help="A PostgreSQL URL to use instead of the embedded SQLite.",
)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on."),
    plugins: list[Path] = typer.Option(
        [], "--plugins", "-p", help="A directory of plugin files to load and watch (repeatable)."
    ),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
    no_auth: bool = typer.Option(False, "--no-auth", help="No API keys (loopback only)."),
    no_watch: bool = typer.Option(False, "--no-watch", help="Do not reload changed files."),
    log_json: bool = typer.Option(
        False, "--log-json", envvar="PIPEHOUSE_LOG_JSON", help="Log one JSON object per line."
    ),
    log_level: str = typer.Option("INFO", "--log-level", envvar="PIPEHOUSE_LOG_LEVEL"),
    upstream: list[str] = typer.Option(
        [],
        "--upstream",
        help="An OpenAI-compatible server's base URL to offer models from (repeatable; "
        "overrides PIPEHOUSE_UPSTREAMS). Keys: PIPEHOUSE_UPSTREAM_KEYS, in the same order.",
    ),
    access_log: bool = typer.Option(
        False,
        "--access-log",
        envvar="PIPEHOUSE_ACCESS_LOG",
        help="Also log one line per request (costs about a fifth of the request rate).",
    ),
    gc_tuning: bool = typer.Option(
        True,
        "--gc-tuning/--no-gc-tuning",
        envvar="PIPEHOUSE_GC_TUNING",
        help="Tune the process's garbage collection for serving: freeze what start-up built, "
        "collect the young generation every 20,000 allocations (about a tenth more requests).",
    ),
    isolation: str = typer.Option(
        "isolated",
        "--isolation",
        envvar="PIPEHOUSE_ISOLATION",
        help="Where plugins run: isolated (worker processes) or inline (the server's process, "
        "for trusted plugins); an admin can set one plugin's mode (docs/isolation.md).",
    ),
) -> None:
    """Serve the OpenAI API and the admin API over the plugins.

    Example: pipehouse serve --plugins examples
    """
    import uvicorn

    from pipehouse.api.app import create_app
    from pipehouse.api.observability import configure_logging
    from pipehouse.api.server import Server
    from pipehouse.console.output import plugin_output_to_stderr
    from pipehouse.store.db import MissingDriver, require_driver

    settings = _settings(
        data_dir, database_url, host=host, port=port, plugin_dirs=plugins, no_auth=no_auth
    )
    if no_watch:
        settings.watch = False
    settings.gc_tuning = gc_tuning
    if isolation.strip().lower() not in ("isolated", "inline"):
        err.print(f"[red]error:[/] --isolation {isolation}: use isolated or inline")
        raise typer.Exit(2)
    settings.isolation = isolation.strip().lower()
    if upstream:
        settings.upstreams = upstream
    _check_upstreams(settings.upstreams)
    for directory in settings.plugin_dirs:
        if not directory.is_dir():
            err.print(f"[red]error:[/] --plugins {directory}: no such directory")
            raise typer.Exit(2)
    try:
        require_driver(settings.db_url)
    except MissingDriver as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    if no_auth and not settings.is_loopback:
        err.print("[red]error:[/] --no-auth is allowed only on a loopback address (127.0.0.1)")
        raise typer.Exit(2)
    configure_logging(log_level, as_json=log_json or settings.log_json)
    logging.getLogger("pipehouse.access").setLevel(logging.INFO if access_log else logging.WARNING)
    if no_auth:
        logging.getLogger("pipehouse.server").warning(
            "authentication is OFF (--no-auth): anyone who can reach %s:%s is an admin", host, port
        )
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
        # pipehouse reads no client address (auth is by key; logs carry request ids), so the
        # X-Forwarded-* middleware would cost every request for nothing
        proxy_headers=False,
        server_header=False,  # and no need to announce uvicorn
    )
    with plugin_output_to_stderr():  # stdout is not the server's to give to plugins
        Server(config).run()


def _check_upstreams(urls: list[str]) -> None:
    from pipehouse.service.connections import checked_base_url

    for url in filter(None, urls):
        try:
            checked_base_url(url)
        except ValueError as exc:
            err.print(f"[red]error:[/] upstream {url}: {exc}")
            raise typer.Exit(2) from exc


keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
users_app = typer.Typer(help="Users: list, create, set-role, delete.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
connections_app = typer.Typer(
    help="Upstream connections (OpenAI-compatible servers) stored in the database: add, list, "
    "remove. A running server applies changes at its next start.",
    no_args_is_help=True,
)
app.add_typer(connections_app, name="connections")


def _on_database(
    data_dir: Path | None, database_url: str | None, action: Callable[[Database], Awaitable[T]]
) -> T:
    """Run `action(db)` on the database; what the command cannot do is exit status 2."""
    import asyncio

    from pipehouse.console.database import CommandError, with_database
    from pipehouse.store.db import MissingDriver

    try:
        return asyncio.run(with_database(_settings(data_dir, database_url), action))
    except (CommandError, MissingDriver) as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _accounts(
    data_dir: Path | None, database_url: str | None, action: Callable[[Accounts], Awaitable[T]]
) -> T:
    from pipehouse.store.accounts import Accounts

    return _on_database(data_dir, database_url, lambda db: action(Accounts(db)))


@keys_app.command("create")
def keys_create(
    admin: bool = typer.Option(False, "--admin", help="A key for an admin."),
    user: str | None = typer.Option(
        None, "--user", help="Email of the key's user (created if new)."
    ),
    name: str = typer.Option("", "--name", help="A label to recognise the key by."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Create an API key and print it alone on stdout (it is not shown again).

    Example: KEY=$(pipehouse keys create --user ada@example.com)
    """
    from pipehouse.console import accounts

    print(
        _accounts(
            data_dir,
            database_url,
            lambda a: accounts.create_key(a, email=user, admin=admin, name=name),
        )
    )


@keys_app.command("list")
def keys_list(data_dir: Path | None = DATA_DIR, database_url: str | None = DATABASE_URL) -> None:
    """List keys by their prefix (the keys themselves are not stored)."""
    from pipehouse.console import accounts

    accounts.print_table(_accounts(data_dir, database_url, accounts.key_table))


@keys_app.command("revoke")
def keys_revoke(
    key: str = typer.Argument(..., help="The key's prefix (from `keys list`) or id."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Revoke a key; a running server stops accepting it within seconds."""
    from pipehouse.console import accounts

    if _accounts(data_dir, database_url, lambda a: accounts.revoke(a, key)) == 0:
        err.print(f"[red]error:[/] no active key {key}")
        raise typer.Exit(1)
    err.print(f"revoked {key}")


@users_app.command("list")
def users_list(data_dir: Path | None = DATA_DIR, database_url: str | None = DATABASE_URL) -> None:
    """List users and their roles."""
    from pipehouse.console import accounts

    accounts.print_table(_accounts(data_dir, database_url, accounts.user_table))


@users_app.command("create")
def users_create(
    email: str = typer.Argument(...),
    name: str | None = typer.Option(None, "--name"),
    role: str = typer.Option("user", "--role", help="admin, user or pending."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Create a user (give them a key with `pipehouse keys create --user EMAIL`)."""
    from pipehouse.console import accounts

    created = _accounts(
        data_dir, database_url, lambda a: accounts.create_user(a, email, name, role)
    )
    print(created.id)


@users_app.command("set-role")
def users_set_role(
    email: str = typer.Argument(...),
    role: str = typer.Argument(..., help="admin, user or pending."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Change a user's role."""
    from pipehouse.console import accounts

    _accounts(data_dir, database_url, lambda a: accounts.set_role(a, email, role))


@users_app.command("delete")
def users_delete(
    email: str = typer.Argument(...),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Delete a user and their keys."""
    from pipehouse.console import accounts

    _accounts(data_dir, database_url, lambda a: accounts.delete_user(a, email))


def _connections(
    data_dir: Path | None,
    database_url: str | None,
    action: Callable[[ConnectionStore], Awaitable[T]],
) -> T:
    from pipehouse.store.connections import ConnectionStore

    return _on_database(data_dir, database_url, lambda db: action(ConnectionStore(db)))


@connections_app.command("add")
def connections_add(
    url: str = typer.Argument(..., help="The base URL, e.g. http://127.0.0.1:11434/v1"),
    connection_id: str | None = typer.Option(
        None, "--id", help="The connection's id (default: made from the host and port)."
    ),
    key_env: str | None = typer.Option(
        None, "--key-env", help="Read the API key from this environment variable (preferred)."
    ),
    key: str | None = typer.Option(
        None, "--key", help="The API key itself (visible in `ps` and shell history)."
    ),
    prefix: str | None = typer.Option(
        None, "--prefix", help="List its models as PREFIX.MODEL (Open WebUI's prefix_id)."
    ),
    model: list[str] = typer.Option(
        [], "--model", "-m", help="Offer only this model id (repeatable; default: all)."
    ),
    disabled: bool = typer.Option(False, "--disabled", help="Store it switched off."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Store a connection and print its id.

    Example: OLLAMA_KEY=... pipehouse connections add http://127.0.0.1:11434/v1 --key-env OLLAMA_KEY
    """
    from pipehouse.console import connections

    print(
        _connections(
            data_dir,
            database_url,
            lambda store: connections.add(
                store,
                url,
                connection_id=connection_id,
                key=key,
                key_env=key_env,
                prefix=prefix,
                models=model,
                enabled=not disabled,
            ),
        )
    )


@connections_app.command("list")
def connections_list(
    data_dir: Path | None = DATA_DIR, database_url: str | None = DATABASE_URL
) -> None:
    """List stored connections and whether each has a key (never the key itself)."""
    from pipehouse.console import accounts, connections

    accounts.print_table(_connections(data_dir, database_url, connections.table))


@connections_app.command("remove")
def connections_remove(
    connection_id: str = typer.Argument(..., help="The connection's id (from `list`)."),
    data_dir: Path | None = DATA_DIR,
    database_url: str | None = DATABASE_URL,
) -> None:
    """Remove a stored connection."""
    from pipehouse.console import connections

    if not _connections(data_dir, database_url, lambda s: connections.remove(s, connection_id)):
        err.print(f"[red]error:[/] no stored connection {connection_id}")
        raise typer.Exit(1)
    err.print(f"removed {connection_id}")


def _bad_settings(error: SettingsError) -> NoReturn:
    err.print(f"[red]error:[/] {escape(str(error))}")
    raise typer.Exit(2) from error


def main() -> None:
    try:
        app()
    except SettingsError as exc:  # read outside a command's own checks (run, inspect)
        err.print(f"[red]error:[/] {escape(str(exc))}")
        sys.exit(2)


env_app = typer.Typer(
    help="Plugin environments (the packages plugins need beyond pipehouse's): list, show, "
    "rebuild, prune.",
    no_args_is_help=True,
)
app.add_typer(env_app, name="env")
env_out = Console(highlight=False)


def _environments(data_dir: Path | None) -> Environments:
    from pipehouse.envs import Environments

    return Environments(_settings(data_dir, None).data_dir / "envs")


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
