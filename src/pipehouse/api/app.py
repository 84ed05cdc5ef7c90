"""The application: store, runtime and plugins wired together behind the HTTP routes."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pipehouse import __version__
from pipehouse.api import (
    actions,
    chats,
    connections,
    errors,
    functions,
    openai,
    session_user,
    tools,
)
from pipehouse.api import environments as environment_routes
from pipehouse.api import events as event_routes
from pipehouse.api import files as file_routes
from pipehouse.api import isolation as isolation_routes
from pipehouse.api import pipelines as pipelines_protocol
from pipehouse.api.body_limit import BodyGate
from pipehouse.api.fastlane import FastLane
from pipehouse.api.gc_tuning import tuned_for_serving
from pipehouse.api.observability import Metrics, ObservabilityMiddleware
from pipehouse.api.principal import Authenticator, Principal, admin_user, current_user
from pipehouse.api.sessions import DEFAULT_TTL
from pipehouse.api.worker_status import report_workers
from pipehouse.compat import services as compat_services
from pipehouse.config import Settings
from pipehouse.envs import Environments
from pipehouse.runtime.catalog import Catalog
from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.loop_lag import LoopLagMonitor, Stall
from pipehouse.runtime.workers.routing import RoutingExecutor
from pipehouse.service.chats import ChatService
from pipehouse.service.connections import ConnectionService
from pipehouse.service.files import FileService
from pipehouse.service.plugins import PluginService
from pipehouse.service.replicas import Replicas
from pipehouse.service.valves import DatabaseValves
from pipehouse.store.accounts import Accounts
from pipehouse.store.chats import ChatStore
from pipehouse.store.connections import ConnectionStore
from pipehouse.store.console_sessions import ConsoleSessions
from pipehouse.store.db import Database
from pipehouse.store.files import FileStore
from pipehouse.store.plugins import PluginStore
from pipehouse.store.startup_lock import StartupLock
from pipehouse.upstream.registry import UpstreamRegistry
from pipehouse.web import routes as web

log = logging.getLogger("pipehouse.server")


async def ensure_admin(accounts: Accounts, settings: Settings) -> str | None:
    """The first start creates an admin and an API key; returns the key when it is new."""
    preset = settings.admin_key
    if await accounts.count_admins() == 0:
        admin = await accounts.user_by_email(settings.admin_email)
        if admin is None:
            admin = await accounts.create_user(settings.admin_email, "Admin", role="admin")
        else:
            await accounts.set_role(admin.id, "admin")
        _, key = await accounts.create_key(admin.id, "first admin key", key=preset)
        return None if preset else key
    if preset and not await accounts.has_key(preset):
        admin = next(u for u in await accounts.list_users() if u.role == "admin")
        await accounts.create_key(admin.id, "PIPEHOUSE_ADMIN_KEY", key=preset)
    return None


def announce_key(key: str, settings: Settings) -> None:
    base = f"http://{settings.host}:{settings.port}"
    print(
        f"""
pipehouse created an admin API key. It is shown only this once; keep it:

    {key}

Try it:
    curl {base}/v1/models -H "Authorization: Bearer {key}"

    from openai import OpenAI
    client = OpenAI(base_url="{base}/v1", api_key="{key}")
    print(client.chat.completions.create(model="MODEL_ID",
          messages=[{{"role": "user", "content": "hi"}}]).choices[0].message.content)
""",
        file=sys.stderr,
        flush=True,
    )


def watch_loop(
    settings: Settings, executor: RoutingExecutor, metrics: Metrics, plugins: PluginService
) -> LoopLagMonitor | None:
    """The loop-lag monitor (runtime/loop_lag.py); each stall is counted in `/metrics` and kept
    in the status of the plugin that caused it."""
    if not settings.loop_lag_threshold:
        return None

    def stalled(stall: Stall, seconds: float) -> None:
        metrics.observe_stall(stall.plugin_id)
        plugins.status.note_stall(stall, seconds)

    monitor = LoopLagMonitor(settings.loop_lag_threshold, executor.plugin_files, stalled)
    monitor.start()
    return monitor


class PipehouseApp(FastAPI):
    """FastAPI with the fast lane for the hot routes outermost (see `api/fastlane.py`), then
    the request-id and metrics middleware for every other route."""

    def __init__(self, *, metrics: Metrics, max_body: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state.metrics = metrics
        self.max_body = max_body  # PIPEHOUSE_MAX_BODY (api/body_limit.py)
        self.chat_api: openai.ChatAPI | None = None  # bound to the services at each start

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.root_path:  # lifespan, websockets: FastAPI's way
            await super().__call__(scope, receive, send)
            return
        if "\n" in scope["path"]:
            # Starlette matches routes with `$`, which also matches before a final newline:
            # `/api/v1/chats/%0A` would be answered by the chat list. No route has one.
            await JSONResponse({"detail": "Not Found"}, status_code=404)(scope, receive, send)
            return
        scope["app"] = self
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        await self.middleware_stack(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is not None:
            return self.openapi_schema
        schema = super().openapi()  # kept as self.openapi_schema
        errors.document_field_errors(schema)
        errors.document_error_answers(schema)
        return schema

    def build_middleware_stack(self) -> ASGIApp:
        metrics = self.state.metrics
        gate = BodyGate(
            super().build_middleware_stack(),
            self.max_body,
            file_routes.UPLOAD_PATHS,
            open_paths=web.SIGN_IN_PATHS,
        )
        stack = ObservabilityMiddleware(gate, metrics=metrics)
        return FastLane(self, stack, openai.hot_routes(), metrics, self.max_body)


def create_app(settings: Settings) -> FastAPI:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.db_url)
        starting = await StartupLock.acquire(db)  # replicas started together take turns
        await db.migrate()
        accounts = Accounts(db)
        new_key = await ensure_admin(accounts, settings)
        if not settings.plugin_dirs:
            # nothing else is written at start (directory files get rows): the next replica
            # need not wait while this one loads its plugins
            await starting.release()
        anonymous = None
        if settings.no_auth:
            admin = next(u for u in await accounts.list_users() if u.role == "admin")
            anonymous = Principal.of(admin)
        executor = isolation_routes.build_executor(settings, metrics)  # inline | isolated
        catalog = Catalog()
        valves = DatabaseValves(accounts)
        replicas = Replicas(settings, db)
        events = replicas.events
        upstreams = UpstreamRegistry(
            ttl=settings.manifold_ttl, read_timeout=settings.upstream_timeout
        )
        runtime = ChatRuntime(
            executor,
            catalog,
            valves,
            manifold_ttl=settings.manifold_ttl,
            upstreams=upstreams,
            max_tool_rounds=settings.max_tool_rounds,
            events=events,
        )
        plugins = PluginService(
            settings,
            PluginStore(db),
            valves,
            executor,
            catalog,
            runtime,
            environments=Environments(settings.data_dir / "envs", offline=settings.offline),
        )
        upstream_connections = ConnectionService(
            settings, ConnectionStore(db), upstreams, os.environ
        )
        app.state.settings = settings
        app.state.db = db
        app.state.accounts = accounts
        app.state.sessions = ConsoleSessions(db, DEFAULT_TTL)  # the console's sign-ins
        app.state.auth = Authenticator(
            accounts,
            ttl=settings.auth_cache_ttl,
            anonymous=anonymous,
            sessions=app.state.sessions,
        )
        app.state.catalog = catalog
        app.state.valves = valves
        app.state.runtime = runtime
        app.state.plugins = plugins
        app.state.executor = executor
        app.state.upstreams = upstreams
        app.state.connections = upstream_connections
        app.state.files = FileService.from_settings(settings, FileStore(db))
        app.state.chats = ChatService(ChatStore(db))
        app.state.events = events
        app.state.event_host = lambda user, chat_id=None, message_id=None: events.host(
            user.id, chat_id, message_id
        )
        assert isinstance(app, PipehouseApp)
        app.chat_api = openai.ChatAPI(app.state)
        compat = compat_services.attach(app)  # what plugins' `open_webui.*` imports reach
        monitor = watch_loop(settings, executor, metrics, plugins)
        app.state.replicas = replicas
        await replicas.start(plugins, valves, upstream_connections)
        report_workers(isolation_routes.supervisor_of(executor), metrics, plugins)
        await isolation_routes.restore_modes(executor, plugins)
        await plugins.start()
        await upstream_connections.start()
        await starting.release()  # after the rows of directory plugins
        if new_key:
            announce_key(new_key, settings)
        log.info("pipehouse %s serving %d plugins", __version__, len(list(catalog)))
        try:
            with tuned_for_serving(settings.gc_tuning):
                yield
        finally:
            if monitor is not None:
                monitor.stop()
            await plugins.stop()
            await replicas.stop()
            await upstreams.close()
            await executor.close()
            await compat_services.detach(compat)
            await db.close()

    app = PipehouseApp(
        metrics=metrics,
        max_body=settings.max_body,
        title="pipehouse",
        version=__version__,
        description="Open WebUI plugins behind the OpenAI API.",
        lifespan=lifespan,
        docs_url=None,  # the web console serves /docs (Swagger UI) to a signed-in browser
        redoc_url=None,
        openapi_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},  # /metrics instead
    )
    errors.install(app)
    app.include_router(openai.router)
    app.include_router(actions.router)
    app.include_router(functions.router)
    app.include_router(tools.router)
    app.include_router(event_routes.router)
    app.include_router(connections.router)
    app.include_router(chats.router)
    app.include_router(session_user.router)
    app.include_router(file_routes.router)
    app.include_router(isolation_routes.router)
    app.include_router(environment_routes.router)

    @app.get("/health", tags=["server"])
    async def health() -> JSONResponse:
        return JSONResponse({"status": True})

    @app.get("/ready", tags=["server"])
    async def ready(request: Request) -> JSONResponse:
        """Whether this replica can serve (for a load balancer or an orchestrator): 200 when
        its database answers, and its Redis when it has one; 503 naming what does not."""
        checks = await request.app.state.replicas.readiness()
        ok = all(value is not False for value in checks.values())
        return JSONResponse({"status": ok, **checks}, status_code=200 if ok else 503)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_schema(_: Principal = Depends(current_user)) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/v1/plugins", tags=["server"])
    async def plugins_overview(request: Request, _: Principal = Depends(admin_user)) -> Response:
        """Every plugin the server knows of, directory files that do not load included, with
        its state (loaded | error | missing) and the error with file and line."""
        return JSONResponse(request.app.state.plugins.overview())

    # Prometheus's text format: documented as text/plain (the default would say JSON).
    @app.get("/metrics", tags=["server"], response_class=PlainTextResponse)
    async def prometheus(request: Request, _: Principal = Depends(admin_user)) -> Response:
        body, content_type = request.app.state.metrics.render()
        return Response(body, media_type=content_type)

    web.mount_console(app)  # `/`, `/login`, `/docs`, ... (web/)
    # Last: its `/{id}/...` routes (the Pipelines-server protocol) must not shadow another route.
    app.include_router(pipelines_protocol.router)
    return app
