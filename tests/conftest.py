"""Shared fixtures: fixture plugins from tests/plugins/, a runtime serving them, and an S3 API."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from pipehouse.plugin.loader import LoadedPlugin, load_plugin_file
from pipehouse.runtime.catalog import Catalog, CommandLineValves
from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.events import RecordingHost
from pipehouse.runtime.executor import Executor, PluginSource
from pipehouse.runtime.inprocess import InProcessExecutor

# pytest-xdist gives its workers COLUMNS=80 and LINES=24; rich consoles made at import would keep
# that width for good, and the CLI tests run in this process (tests/support/cli.py) read their
# output at 200 columns.
for _size in ("COLUMNS", "LINES"):
    os.environ.pop(_size, None)

PLUGINS = Path(__file__).parent / "plugins"
EXAMPLES = Path(__file__).parent.parent / "examples"

USER = {"id": "user-1", "email": "ada@example.com", "name": "Ada", "role": "user"}


@pytest.fixture(scope="session", autouse=True)
def shared_uv_cache() -> Iterator[None]:
    """One uv download cache for every environment the suite builds (and across runs), so real
    installs from the registry cost a download once."""
    import tempfile

    if "UV_CACHE_DIR" in os.environ:
        yield
        return
    os.environ["UV_CACHE_DIR"] = str(Path(tempfile.gettempdir()) / "pipehouse-tests-uv-cache")
    try:
        yield
    finally:
        os.environ.pop("UV_CACHE_DIR", None)


def plugin_path(name: str) -> Path:
    """A fixture plugin by file name (with or without `.py`)."""
    path = PLUGINS / (name if name.endswith(".py") else f"{name}.py")
    assert path.exists(), f"no fixture plugin {path}"
    return path


@pytest.fixture
def load() -> Callable[[str], LoadedPlugin]:
    """Load a fixture plugin straight through the loader (no executor)."""
    return lambda name: load_plugin_file(plugin_path(name))


class Harness:
    """A runtime over fixture plugins, the way the CLI and server assemble one."""

    def __init__(self, executor: Executor | None = None) -> None:
        self.executor = executor or InProcessExecutor()
        self.catalog = Catalog()
        self.store = CommandLineValves()
        self.runtime = ChatRuntime(self.executor, self.catalog, self.store)

    async def add(self, name: str, *, plugin_id: str | None = None, **flags: Any):
        path = plugin_path(name)
        info = await self.executor.load(
            PluginSource(plugin_id or path.stem, path.read_text(), str(path))
        )
        self.catalog.add(info, **flags)
        return info

    def body(self, model: str, prompt: str = "hello", **extra: Any) -> dict[str, Any]:
        return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}

    async def complete(
        self, body: dict[str, Any], *, user: dict | None = None, host: RecordingHost | None = None
    ) -> dict[str, Any]:
        turn = await self.runtime.start(
            {**body, "stream": False}, user or USER, host=host or RecordingHost()
        )
        return await turn.complete()

    async def stream(
        self, body: dict[str, Any], *, user: dict | None = None, host: RecordingHost | None = None
    ) -> list[Any]:
        """Every SSE `data:` payload of a streamed answer, parsed (`"[DONE]"` kept as a string)."""
        turn = await self.runtime.start(
            {**body, "stream": True}, user or USER, host=host or RecordingHost()
        )
        raw = b"".join([part async for part in turn.sse()])
        return parse_sse(raw)


def parse_sse(raw: bytes) -> list[Any]:
    """SSE bytes as payloads; asserts every event is a `data:` line ended by a blank line."""
    assert raw.endswith(b"\n\n"), "an SSE stream must end with a blank line"
    payloads: list[Any] = []
    for event in raw[:-2].split(b"\n\n"):
        assert event.startswith(b"data: "), event
        data = event[6:]
        payloads.append("[DONE]" if data == b"[DONE]" else orjson.loads(data))
    return payloads


def content_of(payloads: list[Any]) -> str:
    """The answer text carried by the chunks of a parsed stream."""
    return "".join(
        p["choices"][0]["delta"].get("content") or ""
        for p in payloads
        if isinstance(p, dict) and p.get("choices")
    )


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    await h.executor.close()


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]


# -- S3 -----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a loopback port: a real S3 API over HTTP, as the test double (as the
    mock upstream is for model servers); moto and boto3 are in the `dev` extra."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket; dummy credentials in the environment, where boto3 looks."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    name = f"ph-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    return name
