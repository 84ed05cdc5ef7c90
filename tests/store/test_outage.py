"""A database that cannot be reached is told apart from every other error, whether it refuses,
hangs, or breaks the pool's connections mid-run, and the engine reconnects once it is back."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from pipehouse.store.db import Database
from pipehouse.store.outage import DatabaseUnreachable, database_unavailable
from tests.api.conftest import _free_port, _postgres_database
from tests.support.tcp_proxy import tcp_proxy


@pytest.fixture
def postgres_url() -> Iterator[str]:
    url, drop = _postgres_database()
    try:
        yield url
    finally:
        drop()


async def select_one(db: Database) -> int:
    async with db.engine.connect() as connection:
        return (await connection.execute(text("SELECT 1"))).scalar_one()


async def test_a_database_that_refuses_connections_is_unreachable():
    db = Database(f"postgresql://postgres@127.0.0.1:{_free_port()}/test")
    try:
        with pytest.raises(DatabaseUnreachable) as raised:
            await select_one(db)
    finally:
        await db.close()
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)
    assert database_unavailable(raised.value)


async def test_a_database_that_never_answers_fails_in_seconds():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never speaks
        db = Database(f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/test")
        try:
            with pytest.raises(DatabaseUnreachable) as raised:
                # asyncpg's own default would wait 60 s
                await asyncio.wait_for(select_one(db), 30)
        finally:
            await db.close()
    assert isinstance(raised.value.__cause__, TimeoutError)
    assert "TimeoutError" in str(raised.value)  # says what happened, not an empty message
    assert database_unavailable(raised.value)


async def test_connections_broken_mid_run_are_an_outage_and_the_pool_recovers(postgres_url):
    url = make_url(postgres_url)
    with tcp_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        db = Database(url.set(port=proxy.port).render_as_string(hide_password=False))
        try:
            async with db.engine.connect() as connection:  # in use when the database goes
                await connection.execute(text("SELECT 1"))
                proxy.cut()
                with pytest.raises(Exception) as raised:
                    await connection.execute(text("SELECT 1"))
            assert database_unavailable(raised.value), repr(raised.value)
            proxy.restore()

            assert await select_one(db) == 1  # a connection now waits in the pool
            proxy.cut()  # it breaks while idle, and new ones are refused
            with pytest.raises(Exception) as raised:
                await select_one(db)
            assert database_unavailable(raised.value), repr(raised.value)
            proxy.restore()
            assert await select_one(db) == 1
        finally:
            await db.close()


def test_other_errors_are_not_an_outage():
    duplicate = IntegrityError("INSERT ...", {}, Exception("duplicate key"))
    assert not database_unavailable(duplicate)
    assert not database_unavailable(FileNotFoundError("upload.bin"))
    assert not database_unavailable(ConnectionRefusedError("an upstream, not the database"))
