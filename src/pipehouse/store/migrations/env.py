"""Alembic environment: runs migrations through the async engine of the configured URL."""

import asyncio

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from pipehouse.store.models import Base

target_metadata = Base.metadata


MIGRATION_LOCK = 0x70686D6967726174  # "phmigrat": replicas migrating at once take turns


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # held until the migration's transaction ends; the next replica then finds it done
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None  # set by store/db.py before it runs the migrations
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_main())
