"""
title: Secret from the environment leaks
author: pipehouse tests
description: Reads its API key from the environment in __init__, as many published pipes do,
  and fails with an error that quotes it.
version: 0.1.0
"""

import os

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        OPENROUTER_API_KEY: str = Field(default="", description="OpenRouter key")
        BASE_URL: str = Field(default="https://openrouter.ai/api/v1")

    def __init__(self):
        self.valves = self.Valves(
            OPENROUTER_API_KEY=os.getenv("PH_TEST_OPENROUTER_KEY", ""),
        )
        self.api_key = os.getenv("PH_TEST_OPENROUTER_KEY", "")

    async def pipe(self, body: dict, __event_emitter__=None):
        key = self.valves.OPENROUTER_API_KEY or self.api_key
        message = f"request failed with headers {{'Authorization': 'Bearer {key}'}}"
        if body.get("stream"):
            return self._stream(message, __event_emitter__)
        raise ConnectionError(message)

    async def _stream(self, message, emitter):
        yield "Connecting... "
        raise ConnectionError(message)
