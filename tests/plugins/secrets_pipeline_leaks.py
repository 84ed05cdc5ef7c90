"""
title: Pipelines pipe that leaks its key
author: pipehouse tests
date: 2024-06-01
version: 1.0
license: MIT
description: A Pipelines-server pipe (class Pipeline) that reads its key from the environment in
  __init__ and quotes it in its error while streaming.
requirements:
"""

import os
from collections.abc import Generator, Iterator

from pydantic import BaseModel


class Pipeline:
    class Valves(BaseModel):
        ANTHROPIC_API_KEY: str = ""
        PROXY_URL: str = ""

    def __init__(self):
        self.name = "Leaky Pipeline"
        self.valves = self.Valves(
            **{"ANTHROPIC_API_KEY": os.getenv("PH_TEST_ANTHROPIC_KEY", "sk-ant-fallback-000")}
        )

    async def on_startup(self):
        pass

    async def on_shutdown(self):
        pass

    def pipe(
        self, user_message: str, model_id: str, messages: list[dict], body: dict
    ) -> str | Generator | Iterator:
        key, proxy = self.valves.ANTHROPIC_API_KEY, self.valves.PROXY_URL
        message = f"upstream said: bad x-api-key {key} via {proxy}"
        if body.get("stream"):
            return self._stream(message)
        raise ValueError(message)

    def _stream(self, message):
        yield "Hello "
        raise ValueError(message)
