"""
title: Browser Facts
author: pipehouse tests
description: Asks the user's browser for its language and the page's title with an execute call.
version: 0.1.0
"""

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        GREETING: str = Field(default="Your browser says", description="how the answer starts")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __event_call__=None) -> str:
        facts = await __event_call__(
            {
                "type": "execute",
                "data": {"code": "return { language: navigator.language, title: document.title };"},
            }
        )
        if not isinstance(facts, dict) or "title" not in facts:
            return f"The browser did not answer: {facts!r}"
        return f"{self.valves.GREETING}: language {facts['language']}, page '{facts['title']}'"
