"""
title: Rate-limited Search (async)
author: pipehouse tests
version: 1.0.1
description: The async version of the rate-limited search, which still waits with time.sleep:
  it blocks its event loop for the whole wait.
"""

import time

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        RETRY_AFTER: int = Field(default=3600, description="seconds the API said to wait")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict) -> str:
        time.sleep(self.valves.RETRY_AFTER)
        return "search results"
