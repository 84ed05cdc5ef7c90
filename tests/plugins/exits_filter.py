"""
title: Moderation filter that exits
author: pipehouse tests
version: 0.1.0
description: Calls sys.exit() (or raises another BaseException) in the hook its valves name.
"""

import asyncio
import sys

from pydantic import BaseModel, Field

EXITS = {
    "KeyboardInterrupt": KeyboardInterrupt,
    "GeneratorExit": GeneratorExit,
    "CancelledError": asyncio.CancelledError,
}


class Filter:
    class Valves(BaseModel):
        EXIT_WITH: str = Field(default="SystemExit", description="what to raise")
        EXIT_IN: str = Field(default="inlet", description="inlet | stream | outlet")

    def __init__(self):
        self.valves = self.Valves()

    def _give_up(self, hook: str):
        if self.valves.EXIT_IN != hook:
            return
        if self.valves.EXIT_WITH == "SystemExit":
            sys.exit("moderation service unreachable")
        raise EXITS[self.valves.EXIT_WITH]("moderation service unreachable")

    async def inlet(self, body: dict) -> dict:
        self._give_up("inlet")
        return body

    async def stream(self, event: dict) -> dict:
        self._give_up("stream")
        return event

    async def outlet(self, body: dict) -> dict:
        self._give_up("outlet")
        return body
