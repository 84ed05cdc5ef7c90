"""
title: Counted stream
author: pipehouse tests
description: An async generator that never ends by itself and writes, after each item it
  yields, how many it has produced to the file its valve names (so a test outside its
  process can see whether it runs ahead of its reader); when closed, it writes "closed".
version: 0.1.0
"""

from pathlib import Path

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        COUNT_FILE: str = ""

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict):
        counter = Path(self.valves.COUNT_FILE)
        n = 0
        try:
            while True:
                n += 1
                yield f"tick{n} "
                counter.write_text(str(n))
        finally:
            counter.with_suffix(".closed").write_text("closed")
