"""Real `pipehouse serve` processes on one PostgreSQL database and one Redis.

The tests of a module share one pair of replicas (`pair`, `group`), started together on a fresh
database (tests/api/conftest.py) with a Redis key prefix of their own, so parallel runs never
see each other; each test works on plugins of its own (`greeter`). A test that breaks a replica
or what it runs on starts its own (`group.extra`, `running_pair`). Without PostgreSQL or Redis
the tests are skipped, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import ADMIN_KEY, _free_port, _postgres_database
from tests.support.polling import eventually

REDIS_URL = os.environ.get("PIPEHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class Replica:
    """One `pipehouse serve` process; its log is kept in `log_path`."""

    def __init__(
        self,
        name: str,
        tmp_path: Path,
        database_url: str,
        redis_url: str | None,
        prefix: str,
        args: Sequence[str] = (),
        **env: str,
    ) -> None:
        self.name = name
        self.args = list(args)  # more `pipehouse serve` options
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"{name}.log"
        self.environ = {
            **os.environ,
            "PIPEHOUSE_DATABASE_URL": database_url,
            "PIPEHOUSE_REDIS_PREFIX": prefix,
            "PIPEHOUSE_ADMIN_KEY": ADMIN_KEY,
            "PIPEHOUSE_DATA_DIR": str(tmp_path / name),
            **env,
        }
        self.environ.pop("PIPEHOUSE_REDIS_URL", None)
        if redis_url is not None:
            self.environ["PIPEHOUSE_REDIS_URL"] = redis_url
        self.process: subprocess.Popen[bytes] | None = None
        self._clients: list[httpx.Client] = []

    def start(self) -> Replica:
        command = [sys.executable, "-m", "pipehouse", "serve", "--port", str(self.port)]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*command, "--no-watch", *self.args],
            env=self.environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, (
            f"replica {self.name} exited:\n{self.log()}"
        )
        try:
            return httpx.get(f"{self.base_url}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self) -> Replica:
        eventually(self.ready, seconds=90, what=f"replica {self.name} ready")
        return self

    def client(self, key: str = ADMIN_KEY) -> httpx.Client:
        client = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        self._clients.append(client)
        return client

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class RedisServer:
    """A redis-server of the test's own, to stop and start without touching the shared one."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path / "redis"
        self.dir.mkdir(exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        command = [
            REDIS_SERVER,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.dir),
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        eventually(lambda: _listening("127.0.0.1", self.port), what="redis-server listening")
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def database_url() -> Iterator[str]:
    url, drop = _postgres_database()
    try:
        yield url
    finally:
        drop()


def _reachable_redis() -> str:
    parsed = httpx.URL(REDIS_URL.replace("redis://", "http://", 1))
    if not _listening(parsed.host, parsed.port or 6379):
        unavailable(
            f"Redis is not reachable at {REDIS_URL}; start it or set PIPEHOUSE_TEST_REDIS_URL"
        )
    return REDIS_URL


def _new_prefix() -> str:
    return f"phtest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_url() -> str:
    return _reachable_redis()


@pytest.fixture
def prefix() -> str:
    return _new_prefix()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    if not Path(REDIS_SERVER).exists():
        unavailable("redis-server is not installed")
    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        server.kill()


@contextmanager
def running_pair(
    tmp_path: Path,
    database_url: str,
    redis_url: str | None,
    prefix: str,
    args: Sequence[str] = (),
    **env: str,
) -> Iterator[list[Replica]]:
    """Replicas A and B, started at the same moment on the same database; stopped after."""
    replicas = [
        Replica(name, tmp_path, database_url, redis_url, prefix, args, **env) for name in ("a", "b")
    ]
    try:
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_ready()
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()


@dataclass
class Group:
    """Replicas A and B sharing a database and a Redis prefix, and what it takes to add one."""

    tmp_path: Path
    database_url: str
    redis_url: str
    prefix: str
    replicas: list[Replica]

    @contextmanager
    def extra(self, name: str, database_url: str | None = None) -> Iterator[Replica]:
        """One more replica of the group (reaching the database at `database_url` when given,
        e.g. through a proxy), ready; stopped after."""
        replica = Replica(
            name, self.tmp_path, database_url or self.database_url, self.redis_url, self.prefix
        )
        try:
            yield replica.start().wait_ready()
        finally:
            replica.stop()


@pytest.fixture(scope="module")
def group(tmp_path_factory) -> Iterator[Group]:
    redis_url = _reachable_redis()
    database_url, drop = _postgres_database()
    tmp_path = tmp_path_factory.mktemp("replicas")
    prefix = _new_prefix()
    try:
        with running_pair(tmp_path, database_url, redis_url, prefix) as replicas:
            yield Group(tmp_path, database_url, redis_url, prefix, replicas)
    finally:
        drop()


@pytest.fixture(scope="module")
def pair(group) -> list[Replica]:
    """The module's replicas A and B (started together on a fresh database)."""
    return group.replicas


@pytest.fixture
def greeter() -> str:
    """An id no other test uses, for this test's copy of tests/plugins/replica_greeter.py."""
    return f"replica_greeter_{uuid.uuid4().hex[:8]}"
