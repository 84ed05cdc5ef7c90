"""
title: Rate-limited Search
author: pipehouse tests
version: 1.0.1
description: Waits out the search API's rate limit with time.sleep before asking; the wait it
  is told is far longer than any request may take.
"""

import time

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        RETRY_AFTER: int = Field(default=3600, description="seconds the API said to wait")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        time.sleep(self.valves.RETRY_AFTER)
        return "search results"
