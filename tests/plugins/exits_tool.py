"""
title: Stock quotes toolkit that exits
author: pipehouse tests
version: 0.1.0
description: A sync tool that calls sys.exit() (or raises another BaseException).
"""

import asyncio
import sys

from pydantic import BaseModel, Field

EXITS = {
    "KeyboardInterrupt": KeyboardInterrupt,
    "GeneratorExit": GeneratorExit,
    "CancelledError": asyncio.CancelledError,
}


class Tools:
    class Valves(BaseModel):
        EXIT_WITH: str = Field(default="SystemExit", description="what to raise")

    def __init__(self):
        self.valves = self.Valves()

    def quote(self, symbol: str) -> str:
        """
        Get the latest price of a stock.
        :param symbol: the ticker, e.g. ACME
        """
        if self.valves.EXIT_WITH == "SystemExit":
            sys.exit("quotes API key missing")
        raise EXITS[self.valves.EXIT_WITH]("quotes API key missing")
