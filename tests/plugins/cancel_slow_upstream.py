"""
title: Pipe waiting on a slow upstream
author: pipehouse tests
version: 0.1.0
description: Waits for an answer that never comes, in one call or between two streamed chunks;
  notes whether it was cancelled.
"""

import asyncio

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        STREAM: bool = Field(default=False, description="stream a first chunk, then wait")

    def __init__(self):
        self.valves = self.Valves()
        self.waiting = asyncio.Event()
        self.cancelled = False

    async def _wait(self):
        self.waiting.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise

    async def _stream(self):
        yield "thinking... "
        await self._wait()

    async def pipe(self, body: dict):
        if self.valves.STREAM:
            return self._stream()
        await self._wait()
        return "never"
