"""
title: User Directory Stats
author: open-webui-community
version: 1.1.0
description: Counts users and looks some up, with timeouts and in parallel (Open WebUI 0.12.4 style).
"""

import asyncio
import json

from open_webui.models.users import Users
from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        LOOKUP_TIMEOUT: float = Field(default=5.0, description="Seconds per lookup")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __user__: dict) -> str:
        count = await asyncio.wait_for(Users.get_num_users(), self.valves.LOOKUP_TIMEOUT)
        me, nobody = await asyncio.gather(
            Users.get_user_by_id(__user__["id"]), Users.get_user_by_id("no-such-user")
        )
        by_email = bool(__user__.get("email"))
        found = await (
            Users.get_user_by_email(__user__["email"])
            if by_email
            else Users.get_user_by_id(__user__["id"])
        )
        pending = Users.get_user_by_id("still-nobody")
        later = await pending
        return json.dumps(
            {
                "count": count,
                "me": me.email,
                "nobody": nobody,
                "found": found.id,
                "later": later,
            }
        )
