"""API keys: every route but the probes (/health, /ready) needs one; keys made and revoked with
the CLI work against a running server; the first start makes an admin key and says it once."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import openai
import pytest
from fastapi import HTTPException
from sqlalchemy.engine import make_url

from pipehouse.api.principal import Authenticator
from pipehouse.store.accounts import Accounts
from pipehouse.store.db import Database
from pipehouse.store.outage import DatabaseUnreachable
from tests.api.conftest import _free_port, _postgres_database, start_server
from tests.support.cli import ENV, invoke
from tests.support.polling import eventually, eventually_async
from tests.support.tcp_proxy import tcp_proxy

HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture
def server_plugins():
    return ["cli_status_pipe"]


@pytest.fixture
def quick_server(tmp_path, database_url):
    """A server that remembers a checked key for 0.2 s instead of 30 s."""
    yield from start_server(tmp_path, database_url, ["cli_status_pipe"], auth_cache_ttl=0.2)


def database_args(server) -> list[str]:
    """The CLI flags that point `pipehouse keys/users` at the running server's database."""
    args = ["--data-dir", str(server.data_dir)]
    if server.database_url:
        args += ["--database-url", server.database_url]
    return args


# -- every route needs a key --------------------------------------------------------------------
PROBES = {"/health", "/ready"}  # a load balancer's probes: public, and they tell only up or down


def test_every_route_but_the_probes_needs_a_key(server):
    anonymous = server.client(key=None)
    wrong = server.client(key="ph-not-a-key-this-server-gave")
    checked = 0
    for path, operations in server.app.openapi()["paths"].items():
        url = re.sub(r"\{[^}]+\}", "some-id", path)
        for method in operations:
            for client in (anonymous, wrong):
                reply = client.request(method.upper(), url)
                if path in PROBES:
                    assert reply.status_code == 200
                    assert set(reply.json()) <= {"status", "database", "redis"}, reply.text
                else:
                    assert reply.status_code == 401, (method, path, reply.text)
                    assert reply.headers["www-authenticate"] == "Bearer"
                checked += 1
    assert checked > 10


def test_a_wrong_key_is_refused_to_the_sdk(server):
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="ph-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="cli_status_pipe", messages=HELLO)


def test_health_is_open(server):
    reply = server.client(key=None).get("/health")
    assert reply.status_code == 200
    assert reply.json() == {"status": True}


def test_metrics_are_for_admins(server):
    assert server.client(key=None).get("/metrics").status_code == 401
    user = server.client(key=server.user_key("user@example.com"))
    assert user.get("/v1/models").status_code == 200
    assert user.get("/metrics").status_code == 403
    assert server.client().get("/metrics").status_code == 200


def test_a_pending_user_may_not_chat_yet(server):
    pending = server.client(key=server.user_key("new@example.com", role="pending"))
    reply = pending.post(
        "/v1/chat/completions", json={"model": "cli_status_pipe", "messages": HELLO}
    )
    assert reply.status_code == 403
    assert "pending" in reply.json()["detail"]


def test_openapi_and_docs_need_a_key(server):
    anonymous = server.client(key=None)
    assert anonymous.get("/openapi.json").status_code == 401
    docs = anonymous.get("/docs")
    assert docs.status_code == 303 and docs.headers["location"] == "/login?next=%2Fdocs"
    admin = server.client()
    schema = admin.get("/openapi.json").json()
    assert "/v1/chat/completions" in schema["paths"]
    page = admin.get("/docs")
    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in page.text and "cdn" not in page.text.lower()
    swagger = "/static/console/vendor/swagger-ui"
    for asset in (f"{swagger}/swagger-ui-bundle.js", f"{swagger}/swagger-ui.css"):
        assert anonymous.get(asset).status_code == 200, asset  # served here, public, no data


# -- keys from the CLI, against the running server ----------------------------------------------
def test_a_key_made_with_the_cli_works_until_revoked(quick_server):
    server = quick_server
    made = invoke("keys", "create", "--user", "bob@example.com", *database_args(server))
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert made.stdout == f"{key}\n"

    bob = server.client(key=key)
    reply = bob.post("/v1/chat/completions", json={"model": "cli_status_pipe", "messages": HELLO})
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] == "echo: hi [user]"
    assert bob.get("/metrics").status_code == 403  # bob is a user, not an admin

    listed = invoke("keys", "list", *database_args(server))
    assert listed.returncode == 0, listed.stderr
    prefix = key[:9]
    assert prefix in listed.stdout and "bob@example.com" in listed.stdout
    assert key not in listed.stdout

    revoked = invoke("keys", "revoke", prefix, *database_args(server))
    assert revoked.returncode == 0, revoked.stderr
    eventually(lambda: bob.get("/v1/models").status_code == 401)
    sdk = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        sdk.chat.completions.create(model="cli_status_pipe", messages=HELLO)
    # other keys are untouched
    assert server.client().get("/v1/models").status_code == 200


# -- starting the server from the command line --------------------------------------------------
@contextlib.contextmanager
def serving(data_dir: Path, *flags: str, env: dict[str, str] | None = None) -> Iterator[tuple]:
    """`pipehouse serve` in a subprocess (it serves on a port while the test asks it); yields
    (base URL, stderr lines so far) once it runs."""
    port = _free_port()
    command = ["serve", "--port", str(port), "--data-dir", str(data_dir), "--no-watch", *flags]
    process = subprocess.Popen(
        [sys.executable, "-m", "pipehouse", *command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env or ENV,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + 30
    try:
        while not any("Uvicorn running" in line for line in seen):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "pipehouse serve exited:\n" + "".join(seen)
            seen.append(line)
        yield f"http://127.0.0.1:{port}", "".join(seen)
    finally:
        process.terminate()
        process.wait(30)
        reader.join(30)  # the pipe is at its end once the process is gone
        process.stderr.close()


def printed_key(stderr: str) -> str | None:
    found = re.search(r"^\s+(ph-\S+)\s*$", stderr, re.MULTILINE)
    return found.group(1) if found else None


def test_first_start_prints_an_admin_key_once(tmp_path):
    data_dir = tmp_path / "data"
    with serving(data_dir) as (base, stderr):
        key = printed_key(stderr)
        assert key, stderr
        assert "shown only this once" in stderr
        assert httpx.get(f"{base}/v1/models").status_code == 401
        reply = httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {key}"})
        assert reply.status_code == 200
        assert httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {key}"}).is_success

    preset = "ph-preset-by-the-environment-0123456789"
    with serving(data_dir, env={**ENV, "PIPEHOUSE_ADMIN_KEY": preset}) as (base, stderr):
        assert printed_key(stderr) is None, stderr
        for known in (key, preset):
            reply = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {known}"})
            assert reply.status_code == 200


def test_a_preset_admin_key_is_not_printed(tmp_path):
    preset = "ph-preset-on-first-start-0123456789"
    with serving(tmp_path / "data", env={**ENV, "PIPEHOUSE_ADMIN_KEY": preset}) as (base, stderr):
        assert printed_key(stderr) is None, stderr
        assert preset not in stderr
        reply = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {preset}"})
        assert reply.status_code == 200


def test_no_auth_serves_without_keys_on_loopback(tmp_path):
    with serving(tmp_path / "data", "--no-auth") as (base, stderr):
        assert "authentication is OFF" in stderr
        assert httpx.get(f"{base}/v1/models").status_code == 200
        assert httpx.get(f"{base}/metrics").status_code == 200


def test_no_auth_is_refused_on_a_public_address(tmp_path):
    result = invoke("serve", "--no-auth", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2
    assert "--no-auth" in result.stderr and "loopback" in result.stderr


class CountingAccounts(Accounts):
    """The real account store, counting the key lookups that reach the database."""

    lookups = 0

    async def user_for_key(self, key: str):
        self.lookups += 1
        return await super().user_for_key(key)


@pytest.fixture
async def accounts(tmp_path) -> AsyncIterator[CountingAccounts]:
    db = Database(f"sqlite:///{tmp_path / 'auth.db'}")
    await db.migrate()
    try:
        yield CountingAccounts(db)
    finally:
        await db.close()


async def test_requests_that_arrive_together_with_an_unchecked_key_share_one_lookup(accounts):
    user = await accounts.create_user("ada@example.com", "Ada")
    _, key = await accounts.create_key(user.id)
    auth = Authenticator(accounts, ttl=60)
    found = await asyncio.gather(*(auth.principal(f"Bearer {key}") for _ in range(50)))
    assert {p.email for p in found} == {"ada@example.com"}
    assert accounts.lookups == 1
    assert auth.cached(f"Bearer {key}") == found[0]  # and later requests need none
    await auth.principal(f"Bearer {key}")
    assert accounts.lookups == 1


async def test_a_caller_that_gives_up_leaves_the_shared_lookup_to_the_others(accounts):
    user = await accounts.create_user("ada@example.com", "Ada")
    _, key = await accounts.create_key(user.id)
    auth = Authenticator(accounts, ttl=60)
    first = asyncio.ensure_future(auth.principal(f"Bearer {key}"))
    second = asyncio.ensure_future(auth.principal(f"Bearer {key}"))
    await asyncio.sleep(0)
    first.cancel()
    assert (await second).email == "ada@example.com"
    assert first.cancelled() and accounts.lookups == 1


async def test_an_unknown_key_is_refused_to_every_request_that_carries_it(accounts):
    auth = Authenticator(accounts, ttl=60)
    results = await asyncio.gather(
        *(auth.principal("Bearer sk-nobody") for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, HTTPException) and r.status_code == 401 for r in results)
    assert auth.cached("Bearer sk-nobody") is None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    url, drop = _postgres_database()
    try:
        yield url
    finally:
        drop()


async def test_a_known_key_passes_while_the_database_is_away_with_one_lookup(postgres_url):
    """The requests that follow the failed lookup do not each wait for the database."""
    url = make_url(postgres_url)
    with tcp_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        db = Database(url.set(port=proxy.port).render_as_string(hide_password=False))
        try:
            await db.migrate()
            accounts = CountingAccounts(db)
            user = await accounts.create_user("ada@example.com", "Ada")
            _, key = await accounts.create_key(user.id)
            auth = Authenticator(accounts, ttl=1.0)
            assert (await auth.principal(f"Bearer {key}")).email == "ada@example.com"
            await eventually_async(
                lambda: auth.cached(f"Bearer {key}") is None, what="the key's entry running out"
            )

            proxy.cut()
            found = [await auth.principal(f"Bearer {key}") for _ in range(20)]
            assert {p.email for p in found} == {"ada@example.com"}
            assert accounts.lookups == 2  # when it was new, and once to find the database away
            with pytest.raises(DatabaseUnreachable):  # a key never seen cannot be checked
                await auth.principal("Bearer sk-never-seen")
        finally:
            await db.close()
