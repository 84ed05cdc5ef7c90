"""
title: Slow Storyteller
author: pipehouse tests
version: 0.2.0
description: Streams a short answer word by word, with status lines, a source and a notification along the way.
license: MIT
"""

import asyncio
from typing import AsyncGenerator, Awaitable, Callable

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        delay: float = Field(default=0.25, description="Seconds between streamed words.")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(
        self, body: dict, __event_emitter__: Callable[[dict], Awaitable[None]]
    ) -> AsyncGenerator[str, None]:
        await __event_emitter__(
            {"type": "status", "data": {"description": "Reading the river guide", "done": False}}
        )
        await __event_emitter__(
            {
                "type": "citation",
                "data": {
                    "document": ["Sea otters hold hands while they sleep."],
                    "metadata": [{"source": "River guide"}],
                    "source": {"name": "River guide", "url": "https://example.com/otters"},
                },
            }
        )
        words = "Otters hold hands while they sleep so they do not drift apart .".split()
        for word in words:
            yield word + " "
            await asyncio.sleep(self.valves.delay)
        await __event_emitter__(
            {"type": "notification", "data": {"type": "success", "content": "Story told"}}
        )
        await __event_emitter__(
            {"type": "status", "data": {"description": "Told a story of 13 words", "done": True}}
        )
