"""
title: Quote Last Message
author: pipehouse tests
version: 0.1.0
description: An action button that answers with the last message, as many community actions do.
"""

from pydantic import BaseModel, Field


class Action:
    class Valves(BaseModel):
        prefix: str = Field(default="> ", description="Put before the quoted text")

    def __init__(self):
        self.valves = self.Valves()

    async def action(self, body: dict, __user__=None, __event_emitter__=None):
        last = body["messages"][-1]
        return {"quoted": self.valves.prefix + last["content"]}
