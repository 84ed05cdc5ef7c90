"""
title: Usage Ledger
author: pipehouse tests
version: 0.4.0
description: Keeps a ledger of requests in a table of its own in Open WebUI's database, as
  community usage and quota plugins do (Base, JSONField, engine, get_async_db_context).
"""

import json
import time
import uuid

from open_webui.internal.db import Base, JSONField, engine, get_async_db_context
from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, String, func, select


class LedgerEntry(Base):
    __tablename__ = "usage_ledger_entry"

    id = Column(String, primary_key=True)
    user_id = Column(String, index=True)
    details = Column(JSONField)
    created_at = Column(BigInteger)


class Pipe:
    class Valves(BaseModel):
        ledger_name: str = "default"

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __user__: dict) -> str:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with get_async_db_context() as db:
            db.add(
                LedgerEntry(
                    id=str(uuid.uuid4()),
                    user_id=__user__["id"],
                    details={"model": body["model"], "words": ["ledger", "entry"]},
                    created_at=int(time.time()),
                )
            )
            await db.commit()
            count = await db.scalar(
                select(func.count()).select_from(LedgerEntry).where(
                    LedgerEntry.user_id == __user__["id"]
                )
            )
            latest = (await db.execute(select(LedgerEntry.details))).scalars().first()
        return json.dumps({"count": count, "details": latest})
