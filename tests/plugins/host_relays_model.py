"""
title: Relay
author: pipehouse tests
version: 0.1.0
description: Answers with another model through generate_chat_completion, relaying its stream
  chunk by chunk (its usage report included); tells the user when that model fails.
"""

import json

from pydantic import BaseModel, Field

from pipehouse.host import generate_chat_completion


class Pipe:
    class Valves(BaseModel):
        MODEL: str = Field(default="mock-small", description="the model that answers")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __user__: dict):
        request = {k: v for k, v in body.items() if k in ("messages", "stream", "stream_options")}
        request["model"] = self.valves.MODEL
        try:
            answer = await generate_chat_completion(request, __user__)
        except Exception as e:
            return f"Error: {e}"
        if not body.get("stream"):
            return answer
        return self._relay(answer)

    async def _relay(self, frames):
        async for frame in frames:
            for line in frame.decode().splitlines():
                if not line.startswith("data: "):
                    continue
                if line[6:] == "[DONE]":
                    return
                yield json.loads(line[6:])
