"""A real pipehouse server on a loopback port, on SQLite and on PostgreSQL.

Every test that takes `server` runs twice: against the embedded SQLite default and against the
PostgreSQL at 127.0.0.1:5432 (database `test`, trust auth; override with
PIPEHOUSE_TEST_POSTGRES_URL). Without PostgreSQL those runs are skipped, except under CI=true,
where they fail: CI must exercise both.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from pipehouse.api.app import create_app
from pipehouse.api.server import Server as HTTPServer
from pipehouse.config import Settings
from tests.conftest import PLUGINS

POSTGRES_URL = os.environ.get(
    "PIPEHOUSE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ADMIN_KEY = "ph-test-admin-key-0123456789abcdefghijklmnopqrstuv"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_migrated_template: str | None = None  # this process's migrated database to copy


def _template() -> str:
    """A database with pipehouse's schema, made once per test process: copying it (CREATE
    DATABASE ... TEMPLATE) is a file copy, where migrating every new database took most of a
    PostgreSQL server's start. Dropped when the process ends."""
    global _migrated_template
    if _migrated_template is None:
        from pipehouse.store.db import Database

        url, drop = _postgres_database()
        database = Database(url)

        async def migrate() -> None:
            try:
                await database.migrate()
            finally:
                await database.close()

        asyncio.run(migrate())
        atexit.register(drop)
        _migrated_template = url.rsplit("/", 1)[1]
    return _migrated_template


def _postgres_database(migrated: bool = False) -> tuple[str, Callable[[], None]]:
    """A new database for one server, empty or (`migrated`) holding pipehouse's schema as a
    first start makes it; returns its URL and a function that drops it."""
    import asyncpg

    name = f"ph_{uuid.uuid4().hex[:12]}"
    admin_dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    create = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{_template()}"' if migrated else "")

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin_dsn, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    try:
        asyncio.run(run(create))
    except (OSError, asyncpg.PostgresError) as exc:
        message = (
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc}); start it or set "
            "PIPEHOUSE_TEST_POSTGRES_URL"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    base = admin_dsn.rsplit("/", 1)[0]
    return f"{base}/{name}", lambda: asyncio.run(
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )


@dataclass
class Server:
    base_url: str
    admin_key: str
    plugin_dir: Path
    data_dir: Path
    app: object
    database_url: str | None
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(
        self, key: str | None = ADMIN_KEY, headers: dict[str, str] | None = None, **kwargs
    ) -> httpx.Client:
        headers = {**({"Authorization": f"Bearer {key}"} if key else {}), **(headers or {})}
        client = httpx.Client(base_url=self.base_url, headers=headers, timeout=30, **kwargs)
        self._clients.append(client)
        return client

    def user_key(self, email: str = "user@example.com", role: str = "user") -> str:
        """A key for a (new) non-admin user, made the way `pipehouse keys create` makes one."""

        async def make() -> str:
            accounts = self.app.state.accounts
            user = await accounts.user_by_email(email) or await accounts.create_user(
                email, role=role
            )
            _, key = await accounts.create_key(user.id, "test")
            return key

        return asyncio.run_coroutine_threadsafe(make(), self.loop).result(10)

    def add_plugin(self, fixture: str, as_name: str | None = None) -> Path:
        """Copy a fixture plugin into the watched directory (optionally under another name)."""
        target = self.plugin_dir / f"{(as_name or fixture).removesuffix('.py')}.py"
        shutil.copy(PLUGINS / f"{fixture.removesuffix('.py')}.py", target)
        return target

    def leave_stream(self, body: dict, once_seen: bytes = b"") -> None:
        """Stream a chat completion, read until `once_seen` has come (any first bytes when
        empty), then leave as a client that goes away does: the connection closes."""
        with (
            self.client() as client,
            client.stream("POST", "/v1/chat/completions", json=body, timeout=10) as reply,
        ):
            assert reply.status_code == 200
            seen = b""
            for piece in reply.iter_bytes():
                seen += piece
                if once_seen in seen:
                    return

    def call(self, coroutine):
        """Run a coroutine on the server's event loop (to inspect its state)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    loop: asyncio.AbstractEventLoop | None = None
    uvicorn: uvicorn.Server | None = None  # set `.should_exit = True` to stop it gracefully


def start_server(
    tmp_path: Path,
    database_url: str | None,
    plugins: list[str],
    uvicorn_options: dict | None = None,
    **settings_kw,
) -> Iterator[Server]:
    """A server as `pipehouse serve` runs it; `uvicorn_options` go to uvicorn's Config (e.g.
    `root_path`, as behind a reverse proxy that strips a prefix)."""
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir(exist_ok=True)
    for name in plugins:
        shutil.copy(PLUGINS / f"{name}.py", plugin_dir / f"{name}.py")
    port = _free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        port=port,
        plugin_dirs=[plugin_dir],
        admin_key=ADMIN_KEY,
        **settings_kw,
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        **(uvicorn_options or {}),
    )
    server = HTTPServer(config)
    state = Server(
        f"http://127.0.0.1:{port}", ADMIN_KEY, plugin_dir, settings.data_dir, app, database_url
    )
    state.uvicorn = server

    def serve() -> None:
        loop = asyncio.new_event_loop()
        state.loop = loop
        loop.run_until_complete(server.serve())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield state
    finally:
        for client in state._clients:
            client.close()
        server.should_exit = True
        thread.join(30)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    url, drop = _postgres_database(migrated=True)
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def server_plugins() -> list[str]:
    """Fixture plugins the server's directory starts with; override in a test module."""
    return []


@pytest.fixture
def server_settings() -> dict:
    """Settings the server starts with besides the suite's own, e.g. `{"isolation":
    "isolated", "call_timeout": 3}` (runtime/workers); override in a test module."""
    return {}


@pytest.fixture
def server(tmp_path, database_url, server_plugins, server_settings) -> Iterator[Server]:
    yield from start_server(tmp_path, database_url, server_plugins, **server_settings)
