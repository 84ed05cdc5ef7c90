"""
title: Live translation filter whose service hangs
author: pipehouse tests
version: 0.1.0
description: Sends every streamed chunk to a translation service that never answers (asyncio).
"""

import asyncio

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        priority: int = Field(default=0, description="order among filters")
        TARGET_LANGUAGE: str = Field(default="fr", description="language to translate into")

    def __init__(self):
        self.valves = self.Valves()

    async def _translate(self, text: str) -> str:
        await asyncio.Event().wait()  # the service never answers
        return text

    async def stream(self, event: dict) -> dict:
        for choice in event.get("choices", []):
            delta = choice.get("delta") or {}
            if delta.get("content"):
                delta["content"] = await self._translate(delta["content"])
        return event
