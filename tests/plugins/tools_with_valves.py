"""
title: Toolkit that reports what reached it
description: Valves, user valves and injected arguments, as a tool sees them.
"""

from typing import Optional

from pydantic import BaseModel


class Tools:
    class Valves(BaseModel):
        units: str = "metric"

    class UserValves(BaseModel):
        city: str = "Paris"

    def __init__(self):
        self.valves = self.Valves()

    async def report(
        self,
        topic: str,
        count: int = 1,
        limit: Optional[int] = None,
        label: Optional[str] = None,
        __user__: dict = {},
        __event_emitter__=None,
        __metadata__: dict = {},
        __id__: str = "",
        __messages__: list = [],
        __features__: dict = {},
    ) -> dict:
        """Report what this call received.

        :param topic: Anything.
        :param count: How many.
        """
        await __event_emitter__({"type": "status", "data": {"description": "reporting"}})
        return {
            "topic": topic,
            "count": count,
            "limit": limit,
            "label": label,
            "types": [type(v).__name__ for v in (topic, count, limit, label)],
            "units": self.valves.units,
            "city": __user__["valves"].city,
            "user_id": __user__["id"],
            "id": __id__,
            "chat_id": __metadata__.get("chat_id"),
            "messages": len(__messages__),
            "features": __features__,
        }
