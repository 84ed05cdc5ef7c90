"""
title: Filter stuck waiting on a moderation service
author: pipehouse tests
version: 0.1.0
description: Waits forever in the hook its valves name, as a filter whose service never answers.
"""

import asyncio

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        STUCK_IN: str = Field(default="inlet", description="inlet | stream | outlet")

    def __init__(self):
        self.valves = self.Valves()

    async def _maybe_wait(self, hook: str) -> None:
        if self.valves.STUCK_IN == hook:
            await asyncio.Event().wait()

    async def inlet(self, body: dict) -> dict:
        await self._maybe_wait("inlet")
        return body

    async def stream(self, event: dict) -> dict:
        await self._maybe_wait("stream")
        return event

    async def outlet(self, body: dict) -> dict:
        await self._maybe_wait("outlet")
        return body
