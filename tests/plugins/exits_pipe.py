"""
title: Weather pipe that exits without its key
author: pipehouse tests
version: 0.1.0
description: Calls sys.exit() when its key is missing, as some community pipes do; or raises
  another BaseException, right away or halfway through a sync or async stream.
"""

import asyncio
import sys

from pydantic import BaseModel, Field

EXITS = {
    "KeyboardInterrupt": KeyboardInterrupt,
    "GeneratorExit": GeneratorExit,
    "CancelledError": asyncio.CancelledError,
}


class Pipe:
    class Valves(BaseModel):
        EXIT_WITH: str = Field(default="SystemExit", description="what to raise")
        WHEN: str = Field(default="call", description="call | sync_stream | async_stream")

    def __init__(self):
        self.valves = self.Valves()

    def _give_up(self):
        if self.valves.EXIT_WITH == "SystemExit":
            sys.exit("WEATHER_API_KEY is not set")
        raise EXITS[self.valves.EXIT_WITH]("WEATHER_API_KEY is not set")

    def _sync_stream(self):
        yield "Looking up the weather... "
        self._give_up()

    async def _async_stream(self):
        yield "Looking up the weather... "
        self._give_up()

    def pipe(self, body: dict):
        if self.valves.WHEN == "sync_stream":
            return self._sync_stream()
        if self.valves.WHEN == "async_stream":
            return self._async_stream()
        self._give_up()
