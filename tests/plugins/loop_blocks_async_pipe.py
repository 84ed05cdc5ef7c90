"""
title: Async pipe that sleeps the wrong way
author: pipehouse tests
version: 0.1.0
description: Waits for a rate limit with time.sleep inside `async def pipe`, which blocks the
  whole event loop (it should `await asyncio.sleep`).
"""

import time

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        RATE_LIMIT_WAIT: float = Field(default=1.5, description="seconds between requests")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict) -> str:
        time.sleep(self.valves.RATE_LIMIT_WAIT)  # blocks the loop
        return "answered after the rate limit"
