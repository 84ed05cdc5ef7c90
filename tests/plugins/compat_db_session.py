"""
title: Queries pipehouse's database through open_webui.internal.db
"""

from open_webui.internal.db import get_async_db_context
from open_webui.models.users import User
from sqlalchemy import func, select


class Pipe:
    async def pipe(self, body: dict, __user__: dict) -> str:
        async with get_async_db_context() as db:
            count = (await db.execute(select(func.count()).select_from(User))).scalar()
            me = await db.get(User, __user__["id"])
        return f"{count} users; I am {me.email}"
