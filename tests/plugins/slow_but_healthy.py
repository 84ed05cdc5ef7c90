"""
title: Batch Summary (spool directory)
author: pipehouse tests
version: 0.3.1
description: Hands the chat to a batch summariser through a spool directory. Streams a
  "queued" line at once, then waits for the batch job's result file and streams the summary.
  Nothing here crashes: it only takes a moment to answer.
"""

import asyncio
import os
import time

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        RESULT_FILE: str = Field(
            default="", description="file the batch job writes when done (empty: no batch job)"
        )
        WAIT_SECONDS: float = Field(default=0.5, description="longest wait for the result file")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict):
        yield "queued. "
        give_up = time.monotonic() + self.valves.WAIT_SECONDS
        while time.monotonic() < give_up:
            if self.valves.RESULT_FILE and os.path.exists(self.valves.RESULT_FILE):
                break
            await asyncio.sleep(0.05)
        yield "summary ready"
