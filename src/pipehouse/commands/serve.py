"""`pipehouse serve`: the flags checked, logging set up, the app under uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.markup import escape

from pipehouse.commands.shared import DATA_DIR, DATABASE_URL, err, settings_from


def serve(
    ctx: typer.Context,
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

    settings = settings_from(
        data_dir, database_url, host=host, port=port, plugin_dirs=plugins, no_auth=no_auth
    )
    if no_watch:
        settings.watch = False
    settings.gc_tuning = gc_tuning
    if isolation.strip().lower() not in ("isolated", "inline"):
        source = ctx.get_parameter_source("isolation")  # say what the user set: flag or variable
        given = (
            f"PIPEHOUSE_ISOLATION={isolation}"
            if source is not None and source.name == "ENVIRONMENT"
            else f"--isolation {isolation}"
        )
        err.print(f"[red]error:[/] {escape(given)}: use isolated or inline")
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
