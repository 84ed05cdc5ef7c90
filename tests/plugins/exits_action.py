"""
title: Export action that exits
author: pipehouse tests
version: 0.1.0
description: Calls sys.exit() (or raises another BaseException) when clicked.
"""

import asyncio
import sys

from pydantic import BaseModel, Field

EXITS = {
    "KeyboardInterrupt": KeyboardInterrupt,
    "GeneratorExit": GeneratorExit,
    "CancelledError": asyncio.CancelledError,
}


class Action:
    class Valves(BaseModel):
        EXIT_WITH: str = Field(default="SystemExit", description="what to raise")

    def __init__(self):
        self.valves = self.Valves()

    async def action(self, body: dict, __event_emitter__=None):
        if self.valves.EXIT_WITH == "SystemExit":
            sys.exit("export folder missing")
        raise EXITS[self.valves.EXIT_WITH]("export folder missing")
